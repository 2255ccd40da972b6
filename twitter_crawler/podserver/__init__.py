"""podserver"""
