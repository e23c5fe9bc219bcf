"""nbgrader configuration: the repository is the course directory.

Instructor sources live in solutions/, student releases are generated into
exercises/, and student work is collected under submitted/ (not committed).
"""

c = get_config()  # noqa: F821 - injected by nbgrader/traitlets

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.CourseDirectory.course_id = "nnkit"

c.Exchange.course_id = "nnkit"
