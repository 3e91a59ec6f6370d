// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Hub precompile (0x5003), on the hub chain: light clients, exactly-once booking, the general ledger.
interface IHub {
    event SummaryBooked(string chain, uint64 indexed seq, bytes32 summaryHash);
    event PacketSent(uint64 indexed seq, bytes packet);

    function registerChain(string calldata chain, bytes calldata client) external;
    function updateClient(string calldata chain, bytes calldata header, bytes calldata cert, bytes calldata nextValidators)
        external returns (uint8);
    function registerMerchant(address merchant, address operator) external;
    /// 0 booked, 1 duplicate; anything forged or out of order reverts with its reason.
    function book(bytes calldata bundle) external returns (uint8);
    function recvSweep(bytes calldata bundle) external returns (uint8);
    function allocate(address merchant, string calldata chain, string calldata asset, uint256 amount) external returns (uint64);
    function deposit(address merchant, string calldata asset, uint256 amount) external;
    function withdraw(address merchant, string calldata asset, uint256 amount, address to) external;
    function merchant(address merchant, string calldata asset) external view returns (
        uint256 income, uint256 payouts, uint256 reserve, uint256 balance, uint256 allocInFlight, uint256 sweepsUnbooked);
    function subLedger(address merchant, string calldata chain, string calldata asset) external view returns (
        uint256 income, uint256 payouts, uint256 allocIn, uint256 sweepOut, uint256 closing,
        uint64 payCount, uint64 payoutCount, uint64 epochs);
    function chainState(string calldata chain) external view returns (
        uint64 lastSeq, bytes32 prevHash, uint64 lastToHeight, uint64 allocSent, uint64 allocBooked,
        uint64 sweepRecv, uint64 sweepBooked, bytes memory client);
    function chains() external view returns (string[] memory);
    function statement(string calldata chain, uint64 seq) external view returns (bytes memory);
}

/// @title Directory precompile (0x5004), on the hub: sticky user → chain assignments and routing rules.
interface IDirectory {
    event Assigned(address indexed user, string chain);
    event RulesChanged(uint64 version);
    event ChainsChanged(string chain, bool open);

    function setChainOpen(string calldata chain, bool open) external;
    function setRules(bytes calldata rules) external returns (uint64);
    function assign(address[] calldata users) external returns (string[] memory);
    function assignInstitution(address[] calldata users, string calldata institution) external returns (string[] memory);
    function chainOf(address user) external view returns (string memory chain, bool assigned);
    function chains() external view returns (string[] memory ids, bool[] memory open);
    function rules() external view returns (uint64 version, bytes memory rules);
}

IHub constant HUB = IHub(address(0x5003));
IDirectory constant DIRECTORY = IDirectory(address(0x5004));
