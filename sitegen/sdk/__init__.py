"""The logging API: ``init``, ``Run``, ``Artifact``, ``Store``."""

from sitegen.sdk.artifact import Artifact
from sitegen.sdk.clock import FixedClock
from sitegen.sdk.run import Run, init
from sitegen.sdk.store import ArtifactVersion, Store

__all__ = ["Artifact", "ArtifactVersion", "FixedClock", "Run", "Store", "init"]
