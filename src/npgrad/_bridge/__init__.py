"""The routes from torch to a call: eager (autograd.Function) and compiled (custom ops)."""
