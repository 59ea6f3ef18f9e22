"""Suite-wide settings."""

from hypothesis import settings

# Property tests check behaviour, not speed: on a loaded 2-core machine an example can take
# longer than hypothesis's default 200 ms deadline without anything being wrong.
settings.register_profile("reliability-stack", deadline=None)
settings.load_profile("reliability-stack")
