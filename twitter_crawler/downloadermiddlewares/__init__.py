"""downloadermiddlewares"""
