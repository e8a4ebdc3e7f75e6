"""`make bench`: ecs-renewal against the documented sample's call pattern, at fleet scale, in one run."""
