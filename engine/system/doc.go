// Package system holds the precompiles every chain runs: SystemConfig
// (0x1000) with the chain's tunable limits, ConsensusAdmin (0x1003) with
// validator and observer membership, and Roles (0x1005) with the permission
// model (ADMIN, ISSUER, SETTLER, DEPLOYER, MERCHANT). Other
// precompiles check roles through HasRole and declare the role key they read
// with RoleKey.
package system
