# Classroom defaults for `make lab` (and the JupyterLab test in tests/test_lab.py).
#
# The Makefile puts this folder on JUPYTER_CONFIG_PATH, so these settings come on top of
# JupyterLab's defaults and below the user's own configuration (~/.jupyter), which wins.
# labconfig/default_setting_overrides.json, next to this file, changes JupyterLab's default
# settings the same way: it answers "Would you like to get notified about official Jupyter
# news?" with "No", so no pop-up covers a notebook on the projector (Settings > Settings
# Editor > Notifications changes it back).

c = get_config()  # noqa: F821 - provided by Jupyter when it loads this file

# Files the file browser does not list: book/_ext (the website's Sphinx extension and styles,
# nothing for class) and Python's caches, which JupyterLab hides by default as well
# (jupyter_server's defaults are repeated: this setting replaces them). book/algos stays
# visible: students read it.
c.ContentsManager.hide_globs = ["__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*~", "_ext"]

# No requests to the internet from the server: no news feed, no "new version" check.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"
