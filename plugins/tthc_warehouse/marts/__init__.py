"""marts"""
