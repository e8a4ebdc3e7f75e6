"""The three jobs. Each takes settings and a gateway and returns the contract's result dict."""
