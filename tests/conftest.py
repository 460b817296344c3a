import os

from hypothesis import settings

# CI machines are small and shared: no per-example deadline, a few more examples there.
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, max_examples=200)
settings.load_profile("ci" if os.environ.get("CI") else "default")
