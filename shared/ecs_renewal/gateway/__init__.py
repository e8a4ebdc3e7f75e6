"""The only place that talks to Alibaba Cloud: typed calls over the SDK, with our own retry policy."""
