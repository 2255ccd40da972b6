"""api/v1"""
