"""The reliability-stack CrossGuard policy pack: rules by resource family, their registry and docs."""
