// Package server assembles the hub: it opens the store under the data
// folder, loads or creates the TLS identity, makes sure the default shared
// access policies exist, binds the listeners and runs every component
// until its context ends.
//
// It is the only package that imports all the components; they never
// import each other. [New] does everything that can fail on bad
// configuration (a port in use, a data folder that cannot be written, a
// corrupt store) so that the error reaches the operator before anything
// starts; [Server.Run] then serves until the context is cancelled and
// shuts down gracefully.
//
// [Admin] gives the CLI's local commands the same store and policies
// without starting any listener.
package server
