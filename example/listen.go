package main

import "net"

// listen opens the server's TCP listener, so that the address (":0" in
// tests) is known before serving.
func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
