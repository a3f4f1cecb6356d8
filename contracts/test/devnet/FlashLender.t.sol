// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "../base/Test.sol";
import {DevToken} from "../../src/devnet/DevToken.sol";
import {FlashLender} from "../../src/devnet/FlashLender.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @dev Configurable borrower exercising the lender's checks.
contract MockBorrower is IERC3156FlashBorrower {
    enum Mode {
        Good,
        WrongReturn,
        ApproveAmountOnly,
        Reenter
    }

    Mode public mode;
    uint256 public seenFee;
    address public seenInitiator;

    function setMode(Mode m) external {
        mode = m;
    }

    function borrow(IERC3156FlashLender lender, address token, uint256 amount) external {
        lender.flashLoan(this, token, amount, "");
    }

    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata)
        external
        returns (bytes32)
    {
        seenFee = fee;
        seenInitiator = initiator;
        if (mode == Mode.Reenter) IERC3156FlashLender(msg.sender).flashLoan(this, token, 1, "");
        uint256 allowance = mode == Mode.ApproveAmountOnly ? amount : amount + fee;
        IERC20(token).approve(msg.sender, allowance);
        return mode == Mode.WrongReturn ? bytes32(0) : keccak256("ERC3156FlashBorrower.onFlashLoan");
    }
}

contract FlashLenderTest is Test {
    DevToken internal usd;
    DevToken internal other;
    FlashLender internal lender;
    MockBorrower internal borrower;
    uint256 internal constant POOL = 1_000_000e6;

    function setUp() public {
        usd = new DevToken("Dev USD", "USD", 6, address(this));
        other = new DevToken("Other", "OTH", 18, address(this));
        lender = new FlashLender(5, address(this));
        usd.mint(address(lender), POOL);
        borrower = new MockBorrower();
    }

    function test_maxAndFee() public view {
        assertEq(lender.maxFlashLoan(address(usd)), POOL, "max = balance");
        assertEq(lender.maxFlashLoan(address(other)), 0, "not held");
        assertEq(lender.flashFee(address(usd), 10_000e6), 5e6, "5 bps");
        assertEq(lender.feeBps(), 5, "feeBps");
    }

    function test_flashLoanRepaidWithFee() public {
        usd.mint(address(borrower), 50e6); // to pay the fee
        borrower.borrow(lender, address(usd), 100_000e6);
        assertEq(usd.balanceOf(address(lender)), POOL + 50e6, "fee earned");
        assertEq(usd.balanceOf(address(borrower)), 0, "borrower paid");
        assertEq(borrower.seenFee(), 50e6, "fee passed to callback");
        assertEq(borrower.seenInitiator(), address(borrower), "initiator");
    }

    function test_wholeBalanceCanBeBorrowed() public {
        usd.mint(address(borrower), 500e6);
        borrower.borrow(lender, address(usd), POOL);
        assertEq(usd.balanceOf(address(lender)), POOL + 500e6, "fee earned");
    }

    function test_rejectsWrongCallbackReturn() public {
        usd.mint(address(borrower), 50e6);
        borrower.setMode(MockBorrower.Mode.WrongReturn);
        vm.expectRevert(abi.encodeWithSelector(FlashLender.CallbackFailed.selector, bytes32(0)));
        borrower.borrow(lender, address(usd), 100_000e6);
    }

    function test_rejectsUnderRepaymentAllowance() public {
        usd.mint(address(borrower), 50e6);
        borrower.setMode(MockBorrower.Mode.ApproveAmountOnly);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(lender), 100_000e6, 100_050e6
            )
        );
        borrower.borrow(lender, address(usd), 100_000e6);
    }

    function test_rejectsUnderRepaymentBalance() public {
        // Approves amount + fee but cannot pay the fee.
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientBalance.selector, address(borrower), 100_000e6, 100_050e6
            )
        );
        borrower.borrow(lender, address(usd), 100_000e6);
    }

    function test_rejectsAmountAboveBalanceAndUnheldToken() public {
        vm.expectRevert(abi.encodeWithSelector(FlashLender.AmountExceedsMax.selector, POOL + 1, POOL));
        borrower.borrow(lender, address(usd), POOL + 1);
        vm.expectRevert(abi.encodeWithSelector(FlashLender.UnsupportedToken.selector, address(other)));
        borrower.borrow(lender, address(other), 1);
        vm.expectRevert(abi.encodeWithSelector(FlashLender.UnsupportedToken.selector, address(other)));
        lender.flashFee(address(other), 1);
    }

    function test_rejectsReentrancy() public {
        usd.mint(address(borrower), 50e6);
        borrower.setMode(MockBorrower.Mode.Reenter);
        vm.expectRevert(ReentrancyGuard.ReentrancyGuardReentrantCall.selector);
        borrower.borrow(lender, address(usd), 100_000e6);
    }

    function test_withdrawOnlyOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(0xBAD)));
        vm.prank(address(0xBAD));
        lender.withdraw(address(usd), address(0xBAD), 1);
        lender.withdraw(address(usd), address(0xCAFE), 1e6);
        assertEq(usd.balanceOf(address(0xCAFE)), 1e6, "withdrawn");
    }

    function test_feeCapped() public {
        vm.expectRevert(abi.encodeWithSelector(FlashLender.FeeTooHigh.selector, 10_001));
        new FlashLender(10_001, address(this));
    }
}
