// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {IUniswapV2Callee} from "../../src/devnet/interfaces/IUniswapV2Callee.sol";
import {V2Math} from "../../src/devnet/libraries/V2Math.sol";
import {AaveStyleLendingPool} from "../../src/scenarios/lenders/AaveStyleLendingPool.sol";
import {AaveStyleAToken} from "../../src/scenarios/lenders/AaveStyleAToken.sol";
import {BalancerStyleVault} from "../../src/scenarios/lenders/BalancerStyleVault.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {MultiSourceArbitrage} from "../../src/scenarios/benign/MultiSourceArbitrage.sol";
import {
    IAaveStyleFlashLoanReceiver,
    IBalancerStyleFlashLoanRecipient
} from "../../src/scenarios/lenders/IFlashLoanCallbacks.sol";

/// @dev Test borrower for the four flash-loan shapes: repays what it owes minus `shortfall`.
contract ProbeBorrower is
    IERC3156FlashBorrower,
    IUniswapV2Callee,
    IAaveStyleFlashLoanReceiver,
    IBalancerStyleFlashLoanRecipient
{
    using SafeERC20 for IERC20;

    uint256 public shortfall;
    IERC20 public token;

    constructor(IERC20 token_) {
        token = token_;
    }

    function setShortfall(uint256 s) external {
        shortfall = s;
    }

    function onFlashLoan(address, address, uint256 amount, uint256 fee, bytes calldata) external returns (bytes32) {
        token.forceApprove(msg.sender, amount + fee - shortfall);
        return keccak256("ERC3156FlashBorrower.onFlashLoan");
    }

    function uniswapV2Call(address, uint256 amount0, uint256 amount1, bytes calldata) external {
        token.safeTransfer(msg.sender, V2Math.flashSwapRepayment(amount0 + amount1) - shortfall);
    }

    function executeOperation(address[] calldata, uint256[] calldata amounts, uint256[] calldata premiums, address, bytes calldata)
        external
        returns (bool)
    {
        token.forceApprove(msg.sender, amounts[0] + premiums[0] - shortfall);
        return true;
    }

    function receiveFlashLoan(IERC20[] calldata, uint256[] calldata amounts, uint256[] calldata fees, bytes calldata)
        external
    {
        token.safeTransfer(msg.sender, amounts[0] + fees[0] - shortfall);
    }
}

/// @notice The four flash-loan shapes: a correct borrower is served and pays the fee; a borrower
/// one base unit short is reverted by the source itself.
contract FlashSourcesTest is ScenarioFixture {
    uint256 internal constant AMOUNT = 1_000_000 * USD;

    ProbeBorrower internal probe;

    function setUp() public override {
        super.setUp();
        probe = new ProbeBorrower(IERC20(address(usd)));
        usd.mint(address(probe), 10_000 * USD); // pays the fees
    }

    function _single() internal view returns (address[] memory assets, uint256[] memory amounts, uint256[] memory modes) {
        assets = new address[](1);
        amounts = new uint256[](1);
        modes = new uint256[](1);
        assets[0] = address(usd);
        amounts[0] = AMOUNT;
    }

    function _balancerArgs() internal view returns (IERC20[] memory tokens, uint256[] memory amounts) {
        tokens = new IERC20[](1);
        amounts = new uint256[](1);
        tokens[0] = IERC20(address(usd));
        amounts[0] = AMOUNT;
    }

    // ---------------------------------------------------------------- ERC-3156

    function test_erc3156_correctBorrowerPaysFee() public {
        uint256 before = usd.balanceOf(address(lender));
        lender.flashLoan(probe, address(usd), AMOUNT, "");
        assertEq(usd.balanceOf(address(lender)), before + (AMOUNT * LENDER_FEE_BPS) / 10_000, "fee earned");
    }

    function test_erc3156_underRepaymentReverts() public {
        probe.setShortfall(1);
        vm.expectPartialRevert(IERC20Errors.ERC20InsufficientAllowance.selector);
        lender.flashLoan(probe, address(usd), AMOUNT, "");
    }

    // ---------------------------------------------------------------- Uniswap V2 flash swap

    function test_uniswapV2_correctBorrowerPaysFee() public {
        uint256 before = reserveOf(fundingPair, address(usd));
        (uint256 out0, uint256 out1) = fundingPair.token0() == address(usd) ? (AMOUNT, uint256(0)) : (uint256(0), AMOUNT);
        fundingPair.swap(out0, out1, address(probe), "x");
        assertEq(reserveOf(fundingPair, address(usd)), before - AMOUNT + V2Math.flashSwapRepayment(AMOUNT), "fee paid");
    }

    function test_uniswapV2_underRepaymentReverts() public {
        probe.setShortfall(1);
        (uint256 out0, uint256 out1) = fundingPair.token0() == address(usd) ? (AMOUNT, uint256(0)) : (uint256(0), AMOUNT);
        vm.expectRevert(bytes("UniswapV2: K"));
        fundingPair.swap(out0, out1, address(probe), "x");
    }

    // ---------------------------------------------------------------- Aave-style

    function test_aaveStyle_correctBorrowerPaysPremiumIntoTheAToken() public {
        AaveStyleAToken aUsd = aavePool.aTokenOf(address(usd));
        uint256 before = usd.balanceOf(address(aUsd));
        assertEq(usd.balanceOf(address(aavePool)), 0, "the pool itself holds nothing");
        (address[] memory assets, uint256[] memory amounts, uint256[] memory modes) = _single();

        vm.expectEmit(true, true, true, true, address(aavePool));
        emit AaveStyleLendingPool.FlashLoan(address(probe), address(this), address(usd), AMOUNT, AMOUNT * 9 / 10_000, 7);
        aavePool.flashLoan(address(probe), assets, amounts, modes, address(this), "", 7);

        assertEq(usd.balanceOf(address(aUsd)), before + (AMOUNT * 9) / 10_000, "premium kept by the aToken");
        assertEq(usd.balanceOf(address(aavePool)), 0, "still nothing in the pool");
    }

    function test_aaveStyle_underRepaymentReverts() public {
        probe.setShortfall(1);
        (address[] memory assets, uint256[] memory amounts, uint256[] memory modes) = _single();
        vm.expectPartialRevert(IERC20Errors.ERC20InsufficientAllowance.selector);
        aavePool.flashLoan(address(probe), assets, amounts, modes, address(this), "", 0);
    }

    function test_aaveStyle_debtModesAndUnknownReservesRejected() public {
        (address[] memory assets, uint256[] memory amounts, uint256[] memory modes) = _single();
        modes[0] = 2;
        vm.expectRevert(abi.encodeWithSelector(AaveStyleLendingPool.UnsupportedMode.selector, 2));
        aavePool.flashLoan(address(probe), assets, amounts, modes, address(this), "", 0);
        modes[0] = 0;
        assets[0] = address(usdx);
        vm.expectRevert(abi.encodeWithSelector(AaveStyleLendingPool.ReserveNotInitialized.selector, address(usdx)));
        aavePool.flashLoan(address(probe), assets, amounts, modes, address(this), "", 0);
    }

    function test_aaveStyle_supplierWithdraws() public {
        vm.prank(supplier);
        uint256 out = aavePool.withdraw(address(usd), type(uint256).max, supplier);
        assertEq(out, SOURCE_USD, "all back");
        assertEq(usd.balanceOf(supplier), SOURCE_USD, "received");
    }

    // ---------------------------------------------------------------- Balancer-style

    function test_balancerStyle_correctBorrowerPaysFee() public {
        uint256 before = usd.balanceOf(address(balVault));
        (IERC20[] memory tokens, uint256[] memory amounts) = _balancerArgs();
        balVault.flashLoan(probe, tokens, amounts, "");
        assertEq(usd.balanceOf(address(balVault)), before + AMOUNT / 10_000, "1 bp fee");
    }

    function test_balancerStyle_underRepaymentReverts() public {
        probe.setShortfall(1);
        uint256 required = usd.balanceOf(address(balVault)) + AMOUNT / 10_000;
        (IERC20[] memory tokens, uint256[] memory amounts) = _balancerArgs();
        vm.expectRevert(
            abi.encodeWithSelector(BalancerStyleVault.InsufficientFlashLoanRepayment.selector, usd, required - 1, required)
        );
        balVault.flashLoan(probe, tokens, amounts, "");
    }

    function test_balancerStyle_unsortedOrTooLargeRejected() public {
        IERC20[] memory tokens = new IERC20[](2);
        uint256[] memory amounts = new uint256[](2);
        (IERC20 lo, IERC20 hi) = address(usd) < address(usdx)
            ? (IERC20(address(usd)), IERC20(address(usdx)))
            : (IERC20(address(usdx)), IERC20(address(usd)));
        tokens[0] = hi;
        tokens[1] = lo;
        vm.expectRevert(BalancerStyleVault.UnsortedTokens.selector);
        balVault.flashLoan(probe, tokens, amounts, "");

        (IERC20[] memory one, uint256[] memory amt) = _balancerArgs();
        amt[0] = SOURCE_USD + 1;
        vm.expectRevert(
            abi.encodeWithSelector(BalancerStyleVault.InsufficientFlashLoanBalance.selector, usd, SOURCE_USD, SOURCE_USD + 1)
        );
        balVault.flashLoan(probe, one, amt, "");
    }

    // ---------------------------------------------------------------- FlashFunded callbacks

    /// @dev A FlashFunded contract only accepts callbacks for a loan it asked for, from every shape.
    function test_flashFunded_rejectsUnsolicitedCallbacks() public {
        MultiSourceArbitrage target = new MultiSourceArbitrage();
        usd.mint(address(target), 10_000 * USD);

        vm.expectRevert(FlashFunded.UntrustedCallback.selector);
        lender.flashLoan(target, address(usd), AMOUNT, "");

        (uint256 out0, uint256 out1) = fundingPair.token0() == address(usd) ? (AMOUNT, uint256(0)) : (uint256(0), AMOUNT);
        vm.expectRevert(FlashFunded.UntrustedCallback.selector);
        fundingPair.swap(out0, out1, address(target), "x");

        (address[] memory assets, uint256[] memory amounts, uint256[] memory modes) = _single();
        vm.expectRevert(FlashFunded.UntrustedCallback.selector);
        aavePool.flashLoan(address(target), assets, amounts, modes, address(target), "", 0);

        (IERC20[] memory tokens, uint256[] memory bAmounts) = _balancerArgs();
        vm.expectRevert(FlashFunded.UntrustedCallback.selector);
        balVault.flashLoan(target, tokens, bAmounts, "");
    }
}
