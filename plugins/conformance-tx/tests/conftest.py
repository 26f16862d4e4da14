"""Every finding code the plugin's checks emit must be registered: fail the run otherwise."""

import os

from conformance.codes import STRICT_ENV

os.environ[STRICT_ENV] = "1"
