# Copyright: vmstack.monitoring contributors
# Apache License 2.0
"""pytest loads this for every scenario's tests; its only job is that pytest
puts this folder on sys.path, so the tests can import the shared helpers in
stacktest.py."""
