// Package router is the routing tier: stateless routers that cache the hub's
// directory (user → chain assignments and routing rules) and follow its
// events, assign new users through the hub in batches, forward signed
// transactions to the chains they are signed for, and serve account and
// merchant views. Several routers side by side give the same answers,
// because the directory lives on the hub.
package router
