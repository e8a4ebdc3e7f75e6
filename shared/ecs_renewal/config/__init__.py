"""Configuration: one declaration per setting (``table``), parsed (``parse``, ``values``), resolved
explicit → environment → default in one place (``resolve``), built into a run's settings (``build``).

Kept empty on purpose: importing one part (``tag_rules`` needs ``values``) loads only that part.
The stable import path for everything is :mod:`ecs_renewal.settings`.
"""
