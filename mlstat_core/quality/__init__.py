"""Built-in quality indicators, one module per QF4SA dimension; ``specs`` declares them."""
