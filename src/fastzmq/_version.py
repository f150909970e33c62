__version__ = "0.1.0"
__revision__ = ""  # pyzmq's name: a git revision for development builds, empty in releases
