"""ecs-renewal: keep Alibaba Cloud subscription (prepaid) ECS instances from expiring.

Layers, outermost first: ``functions/<name>/index.py`` (handlers) → :mod:`ecs_renewal.jobs`
(scan, renew, audit) → :mod:`ecs_renewal.gateway` (the ECS/STS client we own) → the Alibaba Cloud SDK.
Policy (:mod:`ecs_renewal.policy`) decides *what* to touch; jobs decide *what to do*; the gateway only talks.
"""

__version__ = "0.1.0"
