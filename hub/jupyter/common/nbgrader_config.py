"""nbgrader settings for everyone on the hub: the exchange and the course (hub/jupyterhub_config.py
sets both variables for every server it starts)."""

import os

c = get_config()  # noqa: F821 - injected by traitlets

# release / fetch / submit / collect / feedback all go through this directory (mode 1777,
# created by the administrator; see docs/instructors.md, "Running a class").
c.Exchange.root = os.environ.get("NNKIT_EXCHANGE", "/srv/nbgrader/exchange")
c.CourseDirectory.course_id = os.environ.get("NNKIT_COURSE_ID", "nnkit")
