"""X's "archive of your data": reading it (:mod:`.reader`) and turning its records into the
project's items (:mod:`.parse`). The ``archive`` spider (``spiders/archive.py``) runs both."""
