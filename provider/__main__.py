"""Component provider host: serves reliability-stack's components to every Pulumi language.

The Pulumi engine starts this program (runtime `python`, see PulumiPlugin.yaml); the
schema is inferred from the annotated dataclass args of each component. Which components
are exposed, and why any is not, lives in `reliability_stack.component_provider`.
"""

from pulumi.provider.experimental import component_provider_host

from reliability_stack.component_provider import PACKAGE, exposed_components, use_dataclass_analyzer

if __name__ == "__main__":
    use_dataclass_analyzer()
    component_provider_host(name=PACKAGE, components=exposed_components())
