"""Jupyter server settings for everyone's server on the hub (read through JUPYTER_CONFIG_PATH)."""

c = get_config()  # noqa: F821 - injected by traitlets

# nbgrader's formgrader and feedback open inside a JupyterLab tab (an iframe of the same
# server); JupyterHub's single-user server forbids framing unless this says 'self'.
c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
# No "Would you like to get notified about Jupyter news?" toast, no update checks: the course
# environment is pinned and the hub's machines need not reach the internet.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
