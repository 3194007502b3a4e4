"""Standard library only: puts a peer script into the venv made by setup-peers when its imports fail."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def reexec_in_venv(script):
    """Re-executes `script` (with this process's arguments) under the venv's Python; raises when it already
    runs there (the imports then fail for another reason)."""
    if os.environ.get("VIGIL_PEER_REEXEC"):
        raise
    py = subprocess.check_output([os.path.join(HERE, "setup-peers")]).decode().strip().splitlines()[-1]
    os.environ["VIGIL_PEER_REEXEC"] = "1"
    os.execv(py, [py, os.path.abspath(script)] + sys.argv[1:])
