"""An OTP-style supervision tree for pykka actors; :mod:`supervisor` is its public face."""
