"""spidermiddlewares"""
