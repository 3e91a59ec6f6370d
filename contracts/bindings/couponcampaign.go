// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package bindings

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// CouponCampaignMetaData contains all meta data concerning the CouponCampaign contract.
var CouponCampaignMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"merchant_\",\"type\":\"address\"},{\"internalType\":\"string\",\"name\":\"asset_\",\"type\":\"string\"},{\"internalType\":\"uint256\",\"name\":\"couponValue_\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"dailyCap_\",\"type\":\"uint256\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"bytes32\",\"name\":\"code\",\"type\":\"bytes32\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"CouponRedeemed\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"asset\",\"outputs\":[{\"internalType\":\"string\",\"name\":\"\",\"type\":\"string\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"couponValue\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"dailyCap\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"day\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"merchant\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"owner\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"code\",\"type\":\"bytes32\"},{\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"}],\"name\":\"redeem\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"name\":\"redeemed\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"spentToday\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "CouponCampaign",
	Bin: "0x610100604052348015610010575f5ffd5b50604051610aa8380380610aa883398101604081905261002f916100d0565b5f8211801561003e5750808211155b61008e5760405162461bcd60e51b815260206004820181905260248201527f436f75706f6e43616d706169676e3a206261642076616c7565206f7220636170604482015260640160405180910390fd5b6001600160a01b0384166080523360a0525f6100aa848261023d565b5060c09190915260e052506102fb9050565b634e487b7160e01b5f52604160045260245ffd5b5f5f5f5f608085870312156100e3575f5ffd5b84516001600160a01b03811681146100f9575f5ffd5b60208601519094506001600160401b03811115610114575f5ffd5b8501601f81018713610124575f5ffd5b80516001600160401b0381111561013d5761013d6100bc565b604051601f8201601f19908116603f011681016001600160401b038111828210171561016b5761016b6100bc565b604052818152828201602001891015610182575f5ffd5b8160208401602083015e5f91810160200191909152604087015160609097015195989097509350505050565b600181811c908216806101c257607f821691505b6020821081036101e057634e487b7160e01b5f52602260045260245ffd5b50919050565b601f821115610238578282111561023857805f5260205f20601f840160051c602085101561021157505f5b90810190601f840160051c035f5b81811015610234575f8382015560010161021f565b5050505b505050565b81516001600160401b03811115610256576102566100bc565b61026a8161026484546101ae565b846101e6565b6020601f82116001811461029c575f83156102855750848201515b5f19600385901b1c1916600184901b1784556102f4565b5f84815260208120601f198516915b828110156102cb57878501518255602094850194600190920191016102ab565b50848210156102e857868401515f19600387901b60f8161c191681555b505060018360011b0184555b5050505050565b60805160a05160c05160e05161074961035f5f395f81816101a2015261037701525f8181610166015281816103980152818161043a015281816104ae015261053301525f8181610100015261026301525f818161013f015261048801526107495ff3fe608060405234801561000f575f5ffd5b5060043610610090575f3560e01c8063a5ff765111610063578063a5ff76511461013a578063b95d95a614610161578063cc3bf9e914610188578063eb3393911461019d578063f059cf2b146101c4575f5ffd5b806338d52e0f146100945780633d8b9e07146100b25780637b76ac91146100e45780638da5cb5b146100fb575b5f5ffd5b61009c6101cd565b6040516100a9919061056e565b60405180910390f35b6100d46100c03660046105a3565b60036020525f908152604090205460ff1681565b60405190151581526020016100a9565b6100ed60015481565b6040519081526020016100a9565b6101227f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b0390911681526020016100a9565b6101227f000000000000000000000000000000000000000000000000000000000000000081565b6100ed7f000000000000000000000000000000000000000000000000000000000000000081565b61019b6101963660046105ba565b610258565b005b6100ed7f000000000000000000000000000000000000000000000000000000000000000081565b6100ed60025481565b5f80546101d9906105f3565b80601f0160208091040260200160405190810160405280929190818152602001828054610205906105f3565b80156102505780601f1061022757610100808354040283529160200191610250565b820191905f5260205f20905b81548152906001019060200180831161023357829003601f168201915b505050505081565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146102e45760405162461bcd60e51b815260206004820152602660248201527f436f75706f6e43616d706169676e3a206f6e6c7920746865206f776e65722072604482015265656465656d7360d01b60648201526084015b60405180910390fd5b5f8281526003602052604090205460ff16156103525760405162461bcd60e51b815260206004820152602760248201527f436f75706f6e43616d706169676e3a20636f75706f6e20616c72656164792072604482015266195919595b595960ca1b60648201526084016102db565b5f610360620151804261062b565b905060015481146103755760018190555f6002555b7f00000000000000000000000000000000000000000000000000000000000000007f00000000000000000000000000000000000000000000000000000000000000006002546103c4919061064a565b111561041c5760405162461bcd60e51b815260206004820152602160248201527f436f75706f6e43616d706169676e3a206461696c7920636170207265616368656044820152601960fa1b60648201526084016102db565b5f838152600360205260408120805460ff19166001179055600280547f0000000000000000000000000000000000000000000000000000000000000000929061046690849061064a565b909155505060405163a8a7bc6760e01b81526150029063a8a7bc67906104d8907f00000000000000000000000000000000000000000000000000000000000000009086905f907f0000000000000000000000000000000000000000000000000000000000000000908a9060040161066f565b5f604051808303815f87803b1580156104ef575f5ffd5b505af1158015610501573d5f5f3e3d5ffd5b50505050816001600160a01b0316837f8083d88ea5a995833cbe2b37d015facc94151b7aff3254d0c9c6217174b8c50f7f000000000000000000000000000000000000000000000000000000000000000060405161056191815260200190565b60405180910390a3505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b5f602082840312156105b3575f5ffd5b5035919050565b5f5f604083850312156105cb575f5ffd5b8235915060208301356001600160a01b03811681146105e8575f5ffd5b809150509250929050565b600181811c9082168061060757607f821691505b60208210810361062557634e487b7160e01b5f52602260045260245ffd5b50919050565b5f8261064557634e487b7160e01b5f52601260045260245ffd5b500490565b8082018082111561066957634e487b7160e01b5f52601160045260245ffd5b92915050565b6001600160a01b0386811682528516602082015260a0604082015283545f908190600181811c908216806106a457607f821691505b6020821081036106c257634e487b7160e01b5f52602260045260245ffd5b60a0860182905260c086018180156106e157600181146106f757610723565b60ff198516825283151560051b82019550610723565b5f8b8152602090205f5b8581101561071d57815484820152600190910190602001610701565b83019650505b505050505060608301949094525060800152939250505056fea164736f6c6343000825000a",
}

// CouponCampaign is an auto generated Go binding around an Ethereum contract.
type CouponCampaign struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *CouponCampaign) GetABI() abi.ABI {
	return c.abi
}

// NewCouponCampaign creates a new instance of CouponCampaign.
func NewCouponCampaign() *CouponCampaign {
	parsed, err := CouponCampaignMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &CouponCampaign{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *CouponCampaign) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address merchant_, string asset_, uint256 couponValue_, uint256 dailyCap_) returns()
func (couponCampaign *CouponCampaign) PackConstructor(merchant_ common.Address, asset_ string, couponValue_ *big.Int, dailyCap_ *big.Int) []byte {
	enc, err := couponCampaign.abi.Pack("", merchant_, asset_, couponValue_, dailyCap_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackAsset is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x38d52e0f.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function asset() view returns(string)
func (couponCampaign *CouponCampaign) PackAsset() []byte {
	enc, err := couponCampaign.abi.Pack("asset")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackAsset is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x38d52e0f.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function asset() view returns(string)
func (couponCampaign *CouponCampaign) TryPackAsset() ([]byte, error) {
	return couponCampaign.abi.Pack("asset")
}

// UnpackAsset is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x38d52e0f.
//
// Solidity: function asset() view returns(string)
func (couponCampaign *CouponCampaign) UnpackAsset(data []byte) (string, error) {
	out, err := couponCampaign.abi.Unpack("asset", data)
	if err != nil {
		return *new(string), err
	}
	out0 := *abi.ConvertType(out[0], new(string)).(*string)
	return out0, nil
}

// PackCouponValue is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb95d95a6.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function couponValue() view returns(uint256)
func (couponCampaign *CouponCampaign) PackCouponValue() []byte {
	enc, err := couponCampaign.abi.Pack("couponValue")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackCouponValue is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb95d95a6.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function couponValue() view returns(uint256)
func (couponCampaign *CouponCampaign) TryPackCouponValue() ([]byte, error) {
	return couponCampaign.abi.Pack("couponValue")
}

// UnpackCouponValue is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xb95d95a6.
//
// Solidity: function couponValue() view returns(uint256)
func (couponCampaign *CouponCampaign) UnpackCouponValue(data []byte) (*big.Int, error) {
	out, err := couponCampaign.abi.Unpack("couponValue", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackDailyCap is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xeb339391.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function dailyCap() view returns(uint256)
func (couponCampaign *CouponCampaign) PackDailyCap() []byte {
	enc, err := couponCampaign.abi.Pack("dailyCap")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDailyCap is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xeb339391.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function dailyCap() view returns(uint256)
func (couponCampaign *CouponCampaign) TryPackDailyCap() ([]byte, error) {
	return couponCampaign.abi.Pack("dailyCap")
}

// UnpackDailyCap is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xeb339391.
//
// Solidity: function dailyCap() view returns(uint256)
func (couponCampaign *CouponCampaign) UnpackDailyCap(data []byte) (*big.Int, error) {
	out, err := couponCampaign.abi.Unpack("dailyCap", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackDay is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7b76ac91.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function day() view returns(uint256)
func (couponCampaign *CouponCampaign) PackDay() []byte {
	enc, err := couponCampaign.abi.Pack("day")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDay is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7b76ac91.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function day() view returns(uint256)
func (couponCampaign *CouponCampaign) TryPackDay() ([]byte, error) {
	return couponCampaign.abi.Pack("day")
}

// UnpackDay is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x7b76ac91.
//
// Solidity: function day() view returns(uint256)
func (couponCampaign *CouponCampaign) UnpackDay(data []byte) (*big.Int, error) {
	out, err := couponCampaign.abi.Unpack("day", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackMerchant is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa5ff7651.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function merchant() view returns(address)
func (couponCampaign *CouponCampaign) PackMerchant() []byte {
	enc, err := couponCampaign.abi.Pack("merchant")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMerchant is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa5ff7651.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function merchant() view returns(address)
func (couponCampaign *CouponCampaign) TryPackMerchant() ([]byte, error) {
	return couponCampaign.abi.Pack("merchant")
}

// UnpackMerchant is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xa5ff7651.
//
// Solidity: function merchant() view returns(address)
func (couponCampaign *CouponCampaign) UnpackMerchant(data []byte) (common.Address, error) {
	out, err := couponCampaign.abi.Unpack("merchant", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackOwner is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8da5cb5b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function owner() view returns(address)
func (couponCampaign *CouponCampaign) PackOwner() []byte {
	enc, err := couponCampaign.abi.Pack("owner")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOwner is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8da5cb5b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function owner() view returns(address)
func (couponCampaign *CouponCampaign) TryPackOwner() ([]byte, error) {
	return couponCampaign.abi.Pack("owner")
}

// UnpackOwner is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x8da5cb5b.
//
// Solidity: function owner() view returns(address)
func (couponCampaign *CouponCampaign) UnpackOwner(data []byte) (common.Address, error) {
	out, err := couponCampaign.abi.Unpack("owner", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackRedeem is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xcc3bf9e9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function redeem(bytes32 code, address to) returns()
func (couponCampaign *CouponCampaign) PackRedeem(code [32]byte, to common.Address) []byte {
	enc, err := couponCampaign.abi.Pack("redeem", code, to)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRedeem is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xcc3bf9e9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function redeem(bytes32 code, address to) returns()
func (couponCampaign *CouponCampaign) TryPackRedeem(code [32]byte, to common.Address) ([]byte, error) {
	return couponCampaign.abi.Pack("redeem", code, to)
}

// PackRedeemed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3d8b9e07.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function redeemed(bytes32 ) view returns(bool)
func (couponCampaign *CouponCampaign) PackRedeemed(arg0 [32]byte) []byte {
	enc, err := couponCampaign.abi.Pack("redeemed", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRedeemed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3d8b9e07.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function redeemed(bytes32 ) view returns(bool)
func (couponCampaign *CouponCampaign) TryPackRedeemed(arg0 [32]byte) ([]byte, error) {
	return couponCampaign.abi.Pack("redeemed", arg0)
}

// UnpackRedeemed is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x3d8b9e07.
//
// Solidity: function redeemed(bytes32 ) view returns(bool)
func (couponCampaign *CouponCampaign) UnpackRedeemed(data []byte) (bool, error) {
	out, err := couponCampaign.abi.Unpack("redeemed", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackSpentToday is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf059cf2b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function spentToday() view returns(uint256)
func (couponCampaign *CouponCampaign) PackSpentToday() []byte {
	enc, err := couponCampaign.abi.Pack("spentToday")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSpentToday is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf059cf2b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function spentToday() view returns(uint256)
func (couponCampaign *CouponCampaign) TryPackSpentToday() ([]byte, error) {
	return couponCampaign.abi.Pack("spentToday")
}

// UnpackSpentToday is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf059cf2b.
//
// Solidity: function spentToday() view returns(uint256)
func (couponCampaign *CouponCampaign) UnpackSpentToday(data []byte) (*big.Int, error) {
	out, err := couponCampaign.abi.Unpack("spentToday", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// CouponCampaignCouponRedeemed represents a CouponRedeemed event raised by the CouponCampaign contract.
type CouponCampaignCouponRedeemed struct {
	Code   [32]byte
	To     common.Address
	Amount *big.Int
	Raw    *types.Log // Blockchain specific contextual infos
}

const CouponCampaignCouponRedeemedEventName = "CouponRedeemed"

// ContractEventName returns the user-defined event name.
func (CouponCampaignCouponRedeemed) ContractEventName() string {
	return CouponCampaignCouponRedeemedEventName
}

// UnpackCouponRedeemedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event CouponRedeemed(bytes32 indexed code, address indexed to, uint256 amount)
func (couponCampaign *CouponCampaign) UnpackCouponRedeemedEvent(log *types.Log) (*CouponCampaignCouponRedeemed, error) {
	event := "CouponRedeemed"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != couponCampaign.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(CouponCampaignCouponRedeemed)
	if len(log.Data) > 0 {
		if err := couponCampaign.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range couponCampaign.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}
