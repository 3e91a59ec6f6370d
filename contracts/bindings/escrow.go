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

// EscrowMetaData contains all meta data concerning the Escrow contract.
var EscrowMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"address\",\"name\":\"arbiter_\",\"type\":\"address\"},{\"internalType\":\"string\",\"name\":\"asset_\",\"type\":\"string\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"to\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"bool\",\"name\":\"released\",\"type\":\"bool\"}],\"name\":\"Closed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"buyer\",\"type\":\"address\"},{\"indexed\":true,\"internalType\":\"address\",\"name\":\"seller\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"Opened\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"arbiter\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"asset\",\"outputs\":[{\"internalType\":\"string\",\"name\":\"\",\"type\":\"string\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"committed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"name\":\"deals\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"buyer\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"seller\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"internalType\":\"bool\",\"name\":\"open\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"nextDeal\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"seller\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"}],\"name\":\"open\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"name\":\"refund\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"id\",\"type\":\"uint256\"}],\"name\":\"release\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	ID:  "Escrow",
	Bin: "0x60a060405234801561000f575f5ffd5b50604051610ae9380380610ae983398101604081905261002e91610062565b6001600160a01b0382166080525f61004682826101c0565b50505061027e565b634e487b7160e01b5f52604160045260245ffd5b5f5f60408385031215610073575f5ffd5b82516001600160a01b0381168114610089575f5ffd5b60208401519092506001600160401b038111156100a4575f5ffd5b8301601f810185136100b4575f5ffd5b80516001600160401b038111156100cd576100cd61004e565b604051601f8201601f19908116603f011681016001600160401b03811182821017156100fb576100fb61004e565b604052818152828201602001871015610112575f5ffd5b8160208401602083015e5f602083830101528093505050509250929050565b600181811c9082168061014557607f821691505b60208210810361016357634e487b7160e01b5f52602260045260245ffd5b50919050565b601f8211156101bb57828211156101bb57805f5260205f20601f840160051c602085101561019457505f5b90810190601f840160051c035f5b818110156101b7575f838201556001016101a2565b5050505b505050565b81516001600160401b038111156101d9576101d961004e565b6101ed816101e78454610131565b84610169565b6020601f82116001811461021f575f83156102085750848201515b5f19600385901b1c1916600184901b178455610277565b5f84815260208120601f198516915b8281101561024e578785015182556020948501946001909201910161022e565b508482101561026b57868401515f19600387901b60f8161c191681555b505060018360011b0184555b5050505050565b60805161084c61029d5f395f81816101760152610463015261084c5ff3fe608060405234801561000f575f5ffd5b5060043610610085575f3560e01c806338d52e0f1161005857806338d52e0f1461014a5780637adc209a1461015f5780639b6b966414610168578063fe25e00a14610171575f5ffd5b806303988f84146100895780630a0e5c9d14610101578063278ecde11461012257806337bdc99b14610137575b5f5ffd5b6100cf610097366004610623565b600260208190525f918252604090912080546001820154928201546003909201546001600160a01b0391821693909116919060ff1684565b604080516001600160a01b03958616815294909316602085015291830152151560608201526080015b60405180910390f35b61011461010f36600461063a565b6101b0565b6040519081526020016100f8565b610135610130366004610623565b6103b5565b005b610135610145366004610623565b6103c2565b6101526103cd565b6040516100f8919061066f565b61011460035481565b61011460015481565b6101987f000000000000000000000000000000000000000000000000000000000000000081565b6040516001600160a01b0390911681526020016100f8565b5f5f82116101fa5760405162461bcd60e51b8152602060048201526012602482015271115cd8dc9bddce88195b5c1d1e481919585b60721b60448201526064015b60405180910390fd5b6040516302018c2960e11b81525f9061500190630403185290610223908490309060040161077a565b602060405180830381865afa15801561023e573d5f5f3e3d5ffd5b505050506040513d601f19601f8201168201806040525081019061026291906107a3565b90508260015461027291906107ce565b8110156102c15760405162461bcd60e51b815260206004820181905260248201527f457363726f773a206465706f7369742074686520616d6f756e7420666972737460448201526064016101f1565b8260015f8282546102d291906107ce565b909155505060038054905f6102e6836107e7565b9091555060408051608081018252338082526001600160a01b0388811660208085018281528587018b81526001606088018181525f8b81526002958690528a9020985189549088166001600160a01b0319918216178a559351918901805492909716919093161790945592519085015590516003909301805493151560ff199094169390931790925591519294509184907f23f3594e94955c18b73f9c006a291dfcec541676a1797820889b70e4215427ed906103a69088815260200190565b60405180910390a45092915050565b6103bf815f610458565b50565b6103bf816001610458565b5f80546103d9906106a4565b80601f0160208091040260200160405190810160405280929190818152602001828054610405906106a4565b80156104505780601f1061042757610100808354040283529160200191610450565b820191905f5260205f20905b81548152906001019060200180831161043357829003601f168201915b505050505081565b336001600160a01b037f000000000000000000000000000000000000000000000000000000000000000016146104d05760405162461bcd60e51b815260206004820152601860248201527f457363726f773a206f6e6c79207468652061726269746572000000000000000060448201526064016101f1565b5f828152600260205260409020600381015460ff166105285760405162461bcd60e51b8152602060048201526014602482015273115cd8dc9bddce881b9bc81bdc195b881919585b60621b60448201526064016101f1565b60038101805460ff191690556002810154600180545f9061054a9084906107ff565b909155505f9050826105665781546001600160a01b0316610575565b60018201546001600160a01b03165b600283015460405163aa2fddc760e01b81529192506150019163aa2fddc7916105a4915f918691600401610812565b5f604051808303815f87803b1580156105bb575f5ffd5b505af11580156105cd573d5f5f3e3d5ffd5b50505060028301546040805191825285151560208301526001600160a01b038416925086917fec091cd14d8a8ba29bf6a14340c9c648295a414a131bd9ad694b621358842776910160405180910390a350505050565b5f60208284031215610633575f5ffd5b5035919050565b5f5f6040838503121561064b575f5ffd5b82356001600160a01b0381168114610661575f5ffd5b946020939093013593505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b600181811c908216806106b857607f821691505b6020821081036106d657634e487b7160e01b5f52602260045260245ffd5b50919050565b80545f90600181811c908216806106f457607f821691505b60208210810361071257634e487b7160e01b5f52602260045260245ffd5b8186526020860181801561072d57600181146107435761076f565b60ff198516825283151560051b8201955061076f565b5f878152602090205f5b858110156107695781548482015260019091019060200161074d565b83019650505b505050505092915050565b604081525f61078c60408301856106dc565b905060018060a01b03831660208301529392505050565b5f602082840312156107b3575f5ffd5b5051919050565b634e487b7160e01b5f52601160045260245ffd5b808201808211156107e1576107e16107ba565b92915050565b5f600182016107f8576107f86107ba565b5060010190565b818103818111156107e1576107e16107ba565b606081525f61082460608301866106dc565b6001600160a01b03949094166020830152506040015291905056fea164736f6c6343000825000a",
}

// Escrow is an auto generated Go binding around an Ethereum contract.
type Escrow struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *Escrow) GetABI() abi.ABI {
	return c.abi
}

// NewEscrow creates a new instance of Escrow.
func NewEscrow() *Escrow {
	parsed, err := EscrowMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &Escrow{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *Escrow) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address arbiter_, string asset_) returns()
func (escrow *Escrow) PackConstructor(arbiter_ common.Address, asset_ string) []byte {
	enc, err := escrow.abi.Pack("", arbiter_, asset_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackArbiter is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe25e00a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function arbiter() view returns(address)
func (escrow *Escrow) PackArbiter() []byte {
	enc, err := escrow.abi.Pack("arbiter")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackArbiter is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfe25e00a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function arbiter() view returns(address)
func (escrow *Escrow) TryPackArbiter() ([]byte, error) {
	return escrow.abi.Pack("arbiter")
}

// UnpackArbiter is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xfe25e00a.
//
// Solidity: function arbiter() view returns(address)
func (escrow *Escrow) UnpackArbiter(data []byte) (common.Address, error) {
	out, err := escrow.abi.Unpack("arbiter", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackAsset is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x38d52e0f.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function asset() view returns(string)
func (escrow *Escrow) PackAsset() []byte {
	enc, err := escrow.abi.Pack("asset")
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
func (escrow *Escrow) TryPackAsset() ([]byte, error) {
	return escrow.abi.Pack("asset")
}

// UnpackAsset is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x38d52e0f.
//
// Solidity: function asset() view returns(string)
func (escrow *Escrow) UnpackAsset(data []byte) (string, error) {
	out, err := escrow.abi.Unpack("asset", data)
	if err != nil {
		return *new(string), err
	}
	out0 := *abi.ConvertType(out[0], new(string)).(*string)
	return out0, nil
}

// PackCommitted is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9b6b9664.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function committed() view returns(uint256)
func (escrow *Escrow) PackCommitted() []byte {
	enc, err := escrow.abi.Pack("committed")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackCommitted is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x9b6b9664.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function committed() view returns(uint256)
func (escrow *Escrow) TryPackCommitted() ([]byte, error) {
	return escrow.abi.Pack("committed")
}

// UnpackCommitted is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x9b6b9664.
//
// Solidity: function committed() view returns(uint256)
func (escrow *Escrow) UnpackCommitted(data []byte) (*big.Int, error) {
	out, err := escrow.abi.Unpack("committed", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackDeals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x03988f84.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function deals(uint256 ) view returns(address buyer, address seller, uint256 amount, bool open)
func (escrow *Escrow) PackDeals(arg0 *big.Int) []byte {
	enc, err := escrow.abi.Pack("deals", arg0)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDeals is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x03988f84.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function deals(uint256 ) view returns(address buyer, address seller, uint256 amount, bool open)
func (escrow *Escrow) TryPackDeals(arg0 *big.Int) ([]byte, error) {
	return escrow.abi.Pack("deals", arg0)
}

// DealsOutput serves as a container for the return parameters of contract
// method Deals.
type DealsOutput struct {
	Buyer  common.Address
	Seller common.Address
	Amount *big.Int
	Open   bool
}

// UnpackDeals is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x03988f84.
//
// Solidity: function deals(uint256 ) view returns(address buyer, address seller, uint256 amount, bool open)
func (escrow *Escrow) UnpackDeals(data []byte) (DealsOutput, error) {
	out, err := escrow.abi.Unpack("deals", data)
	outstruct := new(DealsOutput)
	if err != nil {
		return *outstruct, err
	}
	outstruct.Buyer = *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	outstruct.Seller = *abi.ConvertType(out[1], new(common.Address)).(*common.Address)
	outstruct.Amount = abi.ConvertType(out[2], new(big.Int)).(*big.Int)
	outstruct.Open = *abi.ConvertType(out[3], new(bool)).(*bool)
	return *outstruct, nil
}

// PackNextDeal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7adc209a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function nextDeal() view returns(uint256)
func (escrow *Escrow) PackNextDeal() []byte {
	enc, err := escrow.abi.Pack("nextDeal")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackNextDeal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x7adc209a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function nextDeal() view returns(uint256)
func (escrow *Escrow) TryPackNextDeal() ([]byte, error) {
	return escrow.abi.Pack("nextDeal")
}

// UnpackNextDeal is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x7adc209a.
//
// Solidity: function nextDeal() view returns(uint256)
func (escrow *Escrow) UnpackNextDeal(data []byte) (*big.Int, error) {
	out, err := escrow.abi.Unpack("nextDeal", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackOpen is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0a0e5c9d.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function open(address seller, uint256 amount) returns(uint256 id)
func (escrow *Escrow) PackOpen(seller common.Address, amount *big.Int) []byte {
	enc, err := escrow.abi.Pack("open", seller, amount)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackOpen is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x0a0e5c9d.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function open(address seller, uint256 amount) returns(uint256 id)
func (escrow *Escrow) TryPackOpen(seller common.Address, amount *big.Int) ([]byte, error) {
	return escrow.abi.Pack("open", seller, amount)
}

// UnpackOpen is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x0a0e5c9d.
//
// Solidity: function open(address seller, uint256 amount) returns(uint256 id)
func (escrow *Escrow) UnpackOpen(data []byte) (*big.Int, error) {
	out, err := escrow.abi.Unpack("open", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackRefund is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x278ecde1.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function refund(uint256 id) returns()
func (escrow *Escrow) PackRefund(id *big.Int) []byte {
	enc, err := escrow.abi.Pack("refund", id)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRefund is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x278ecde1.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function refund(uint256 id) returns()
func (escrow *Escrow) TryPackRefund(id *big.Int) ([]byte, error) {
	return escrow.abi.Pack("refund", id)
}

// PackRelease is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x37bdc99b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function release(uint256 id) returns()
func (escrow *Escrow) PackRelease(id *big.Int) []byte {
	enc, err := escrow.abi.Pack("release", id)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRelease is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x37bdc99b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function release(uint256 id) returns()
func (escrow *Escrow) TryPackRelease(id *big.Int) ([]byte, error) {
	return escrow.abi.Pack("release", id)
}

// EscrowClosed represents a Closed event raised by the Escrow contract.
type EscrowClosed struct {
	Id       *big.Int
	To       common.Address
	Amount   *big.Int
	Released bool
	Raw      *types.Log // Blockchain specific contextual infos
}

const EscrowClosedEventName = "Closed"

// ContractEventName returns the user-defined event name.
func (EscrowClosed) ContractEventName() string {
	return EscrowClosedEventName
}

// UnpackClosedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Closed(uint256 indexed id, address indexed to, uint256 amount, bool released)
func (escrow *Escrow) UnpackClosedEvent(log *types.Log) (*EscrowClosed, error) {
	event := "Closed"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != escrow.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(EscrowClosed)
	if len(log.Data) > 0 {
		if err := escrow.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range escrow.abi.Events[event].Inputs {
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

// EscrowOpened represents a Opened event raised by the Escrow contract.
type EscrowOpened struct {
	Id     *big.Int
	Buyer  common.Address
	Seller common.Address
	Amount *big.Int
	Raw    *types.Log // Blockchain specific contextual infos
}

const EscrowOpenedEventName = "Opened"

// ContractEventName returns the user-defined event name.
func (EscrowOpened) ContractEventName() string {
	return EscrowOpenedEventName
}

// UnpackOpenedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Opened(uint256 indexed id, address indexed buyer, address indexed seller, uint256 amount)
func (escrow *Escrow) UnpackOpenedEvent(log *types.Log) (*EscrowOpened, error) {
	event := "Opened"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != escrow.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(EscrowOpened)
	if len(log.Data) > 0 {
		if err := escrow.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range escrow.abi.Events[event].Inputs {
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
