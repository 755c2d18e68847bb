"""Settings for the test process: a throw-away data directory, this node is Viet Nam."""

import atexit
import os
import shutil
import tempfile

if "HANOI247_DATA_DIR" not in os.environ:
    _data_dir = tempfile.mkdtemp(prefix="h247-test-")
    atexit.register(shutil.rmtree, _data_dir, ignore_errors=True)
    os.environ["HANOI247_DATA_DIR"] = _data_dir
os.environ.setdefault("HANOI247_STATE", "VNM")
os.environ.setdefault("HANOI247_BASE_URL", "http://127.0.0.1:1")

from hanoi247.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; argon2 is tested explicitly
