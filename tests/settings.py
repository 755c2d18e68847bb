"""Settings for the test process: a throw-away data directory, this node is Viet Nam."""

import os
import tempfile

os.environ.setdefault("HANOI247_DATA_DIR", tempfile.mkdtemp(prefix="h247-test-"))
os.environ.setdefault("HANOI247_STATE", "VNM")
os.environ.setdefault("HANOI247_BASE_URL", "http://127.0.0.1:1")

from hanoi247.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 is tested explicitly
