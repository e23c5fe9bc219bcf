"""The course JupyterHub on one Linux machine: `make hub`; docs/instructors.md, "Running a class".

Every student and instructor is a real Unix account: the hub (run as root) checks passwords
with PAM and starts each person's JupyterLab as that account with JupyterHub's
LocalProcessSpawner, so nbgrader's exchange works through ordinary file permissions.
Two Unix groups decide who is who: instructors get nbgrader's formgrader, students get the
assignment list only.

Everything that differs between machines comes from the environment (``make hub`` sets
the defaults; tests/test_hub.py sets its own):

==========================  ================================================================
NNKIT_HUB_URL               where people connect (default ``http://127.0.0.1:8000``; put a TLS
                            reverse proxy in front for a real class)
NNKIT_HUB_STATE             the hub's own files: its user database, cookie secret, proxy pid
                            (default ``/srv/nnkit/hub``)
NNKIT_EXCHANGE              nbgrader's exchange root (default ``/srv/nbgrader/exchange``)
NNKIT_COURSE_ID             nbgrader course id (default ``nnkit``)
NNKIT_COURSE_DIR            the instructors' course directory, a clone of this repository
                            (default ``~/nnkit``, in each instructor's home)
NNKIT_GRADEBOOK_URL         the gradebook's SQLAlchemy URL, given to instructors only
                            (default: unset, i.e. ``gradebook.db`` in the course directory)
NNKIT_LECTURES              the lectures copied into every home (default: this repo's lectures/)
NNKIT_INSTRUCTORS           Unix group of instructors (default ``nnkit-instructors``)
NNKIT_STUDENTS              Unix group of students (default ``nnkit-students``)
NNKIT_HUB_API_PORT          loopback port of the hub's API (default 8081)
NNKIT_PROXY_API_PORT        loopback port of the proxy's API (default 8001)
==========================  ================================================================
"""

import grp
import os
import pwd
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - injected by traitlets

HUB = Path(__file__).resolve().parent  # this directory: hub/ of the course repository
ENV = Path(sys.prefix)  # the course's Python environment, which also runs the hub itself
STATE = Path(os.environ.get("NNKIT_HUB_STATE", "/srv/nnkit/hub"))
INSTRUCTORS = os.environ.get("NNKIT_INSTRUCTORS", "nnkit-instructors")
STUDENTS = os.environ.get("NNKIT_STUDENTS", "nnkit-students")

# -- where the hub listens ------------------------------------------------------------------
# The public address is served by configurable-http-proxy, which forwards to the hub and to
# each person's server; the hub's and the proxy's APIs stay on loopback.
c.JupyterHub.bind_url = os.environ.get("NNKIT_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{os.environ.get('NNKIT_HUB_API_PORT', '8081')}"
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{os.environ.get('NNKIT_PROXY_API_PORT', '8001')}"
)
# The proxy that `make hub-proxy` installs from npm (hub/package.json pins it); Debian's
# node-configurable-http-proxy on PATH is the fallback.
_proxy = HUB / "node_modules" / ".bin" / "configurable-http-proxy"
c.ConfigurableHTTPProxy.command = [
    str(_proxy) if _proxy.exists() else shutil.which("configurable-http-proxy") or str(_proxy)
]

# -- the hub's own state --------------------------------------------------------------------
# Its sqlite database holds only logins and running servers (not grades): losing it logs
# everyone out, nothing more. The cookie secret is created on first start, mode 0600.
STATE.mkdir(parents=True, exist_ok=True)
STATE.chmod(0o700)  # login tokens live in the database: root only
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
# pid files, for a service manager or `kill $(cat ...)`; the proxy's lets a restarted hub
# find and stop a proxy its previous run left behind.
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# -- who may log in ---------------------------------------------------------------------------
# PAM checks the Unix password (the hub runs as root to read /etc/shadow and to start servers
# as other users). Members of the two groups may log in; nobody else, root included.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {INSTRUCTORS, STUDENTS}
# Instructors administer the hub too (start/stop anyone's server from the Admin page).
c.PAMAuthenticator.admin_groups = {INSTRUCTORS}
# Containers and minimal servers have no PAM session modules for the web; logins need none.
c.PAMAuthenticator.open_sessions = False

# -- each person's server ---------------------------------------------------------------------
# A real process per user, run as that Unix user in their home directory.
c.JupyterHub.spawner_class = "localprocess"
# hub/singleuser.py brings the lectures in the home up to date, then starts JupyterHub's
# single-user JupyterLab from the course environment.
c.Spawner.cmd = [str(ENV / "bin" / "python"), str(HUB / "singleuser.py")]
c.Spawner.default_url = "/lab"
# Two cores shared by a class start servers slowly; JupyterHub's defaults (60 s, 30 s) are tight.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120


def _members(group: str) -> set[str]:
    """Users whose primary or supplementary Unix group is ``group``."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return set()
    primary = {p.pw_name for p in pwd.getpwall() if p.pw_gid == entry.gr_gid}
    return set(entry.gr_mem) | primary


def per_role_environment(spawner) -> None:
    """Give instructors the formgrader and the gradebook, students the assignment list only.

    Jupyter looks for configuration in the directories of ``JUPYTER_CONFIG_PATH`` before the
    course environment's own: hub/jupyter/student/ switches the instructor-only nbgrader
    extensions off, hub/jupyter/instructor/ points nbgrader at the course directory, and
    hub/jupyter/common/ (for everyone) names the exchange and the course.
    """
    name = spawner.user.name
    role = "instructor" if name in _members(INSTRUCTORS) else "student"
    # a new dict: the configured one may be shared by every spawner
    env = spawner.environment = dict(spawner.environment)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [str(HUB / "jupyter" / role), str(HUB / "jupyter" / "common")]
    )
    # nbgrader starts `alembic` from PATH; the course environment comes first.
    env["PATH"] = f"{ENV / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["NNKIT_ROLE"] = role
    env["NNKIT_EXCHANGE"] = os.environ.get("NNKIT_EXCHANGE", "/srv/nbgrader/exchange")
    env["NNKIT_COURSE_ID"] = os.environ.get("NNKIT_COURSE_ID", "nnkit")
    env["NNKIT_LECTURES"] = os.environ.get("NNKIT_LECTURES", str(HUB.parent / "lectures"))
    if role == "instructor":
        env["NNKIT_COURSE_DIR"] = os.environ.get("NNKIT_COURSE_DIR", "~/nnkit")
        # the course's nbgrader_config.py reads it; students never see the password
        if "NNKIT_GRADEBOOK_URL" in os.environ:
            env["NNKIT_GRADEBOOK_URL"] = os.environ["NNKIT_GRADEBOOK_URL"]


c.Spawner.pre_spawn_hook = per_role_environment

# A server left idle is not stopped here: add jupyterhub-idle-culler as a service for a
# large class (docs/instructors.md).
