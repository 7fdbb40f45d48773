"""sitegen: log ML artifacts and runs into a versioned store; build a static site from it."""

from sitegen.errors import Problem, SitegenError
from sitegen.sdk import Artifact, ArtifactVersion, FixedClock, Run, Store, init

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactVersion",
    "FixedClock",
    "Problem",
    "Run",
    "SitegenError",
    "Store",
    "__version__",
    "init",
]
