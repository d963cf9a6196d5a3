"""An example third-party nasbench plugin package."""
