// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title SystemConfig (0x1000): the chain's tunable limits; changes apply from the next block.
interface ISystemConfig {
    event ConfigChanged(string key, uint256 value);
    /// ADMIN only. Keys: tx_gas_limit, block_gas_limit, block_tx_limit, tx_window, max_tx_bytes, epoch_interval_ms.
    function setValue(string calldata key, uint256 value) external;
    function getValue(string calldata key) external view returns (uint256);
}

/// @title ConsensusAdmin (0x1003): validators and observers; a change certifies the next block on.
interface IConsensusAdmin {
    event ValidatorsChanged(bytes validators);
    event ObserversChanged(address[] observers);
    function addValidator(bytes calldata pubkey) external;
    function removeValidator(address validator) external;
    function addObserver(address observer) external;
    function removeObserver(address observer) external;
    function validators() external view returns (address[] memory);
    function validatorSet() external view returns (bytes memory);
    function observers() external view returns (address[] memory);
}

/// @title CNS (0x1004): name+version → address+ABI, never overwritten; latest by default.
interface ICNS {
    event Registered(string name, string version, address addr);
    function register(string calldata name, string calldata version, address addr, string calldata abi) external;
    function resolve(string calldata name) external view returns (address addr, string memory version, string memory abi);
    function resolveVersion(string calldata name, string calldata version) external view returns (address addr, string memory abi);
    function versions(string calldata name) external view returns (string[] memory);
}

/// @title Roles (0x1005): ADMIN, ISSUER, SETTLER, DEPLOYER, MERCHANT.
interface IRoles {
    event RoleGranted(string role, address indexed account, address indexed by);
    event RoleRevoked(string role, address indexed account, address indexed by);
    function grantRole(string calldata role, address account) external;
    function revokeRole(string calldata role, address account) external;
    function hasRole(string calldata role, address account) external view returns (bool);
}

ISystemConfig constant SYSTEM_CONFIG = ISystemConfig(address(0x1000));
IConsensusAdmin constant CONSENSUS_ADMIN = IConsensusAdmin(address(0x1003));
ICNS constant CNS = ICNS(address(0x1004));
IRoles constant ROLES = IRoles(address(0x1005));
