"""Notifications: :mod:`.messages` turns a job result into messages (pure), :mod:`.dingtalk` delivers them.

A failed notification is logged and never fails the job.
"""
