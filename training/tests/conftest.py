import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
# Two shared cores: never spin waiting OpenMP threads against other processes.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
