"""nbgrader settings for instructors: where the course directory is (a clone of the course
repository in the instructor's home). Its own nbgrader_config.py is read after this one."""

import os

c = get_config()  # noqa: F821 - injected by traitlets

c.CourseDirectory.root = os.path.expanduser(os.environ.get("NNKIT_COURSE_DIR", "~/nnkit"))
