// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {DonationLiquidationAttacker} from "../../src/scenarios/attacks/DonationLiquidationAttacker.sol";
import {OneShotDeployer} from "../../src/scenarios/attacks/OneShotDeployer.sol";

/// @notice Pattern 9 (Euler) against DonationLiquidationMarket (alice's 1M USD; collateral factor
/// 95%, bonus 10%). Attack: deposit 1.5M, mint 28.5M (19x, the limit), donate 1.5M, a fresh
/// liquidator takes 25.9M of debt for all 28.5M of collateral, deleverages and withdraws the
/// market's whole cash (2.5M): 1.5M USD of capital, ~1M profit. No oracle, no swap.
contract DonationLiquidationScenarioTest is ScenarioFixture {
    uint256 internal constant DEPOSIT = 1_500_000 * USD;
    uint256 internal constant MINT = 28_500_000 * USD;
    uint256 internal constant DONATE = 1_500_000 * USD;

    DonationLiquidationAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        vm.prank(attackerEoa);
        attacker = new DonationLiquidationAttacker();
    }

    function _params(uint256 deposit, uint256 mint) internal view returns (DonationLiquidationAttacker.Params memory) {
        return DonationLiquidationAttacker.Params({market: eMarket, depositAmount: deposit, mintAmount: mint, donateAmount: DONATE});
    }

    function _assertDrained(uint256 profit, address violator) internal view {
        assertEq(eMarket.cash(), 0, "market cash drained");
        assertGt(profit, (VICTIM_USD * 95) / 100, "profit > 95% of the depositors' cash");
        assertGt(eMarket.debtOf(violator), 2_000_000 * USD, "bad debt left on the violator");
        assertEq(eMarket.collateralOf(violator), 0, "violator has no collateral");
        assertEq(eMarket.collateralOf(alice), VICTIM_USD, "alice's claim is now unbacked");
        assertEq(usd.balanceOf(violator), 0, "attack contract empty");
    }

    function test_everyFundingSource_drainsMarket() public {
        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            FlashFunded.Funding memory f = usdFunding(src, DEPOSIT, address(attacker));
            vm.prank(attackerEoa);
            attacker.execute(f, _params(DEPOSIT, MINT));
            _assertDrained(netProfit(src, DEPOSIT), address(attacker));
            vm.revertToState(snap);
        }
    }

    /// @dev tx1 opens the leveraged position with own capital; tx2, blocks later, only donates
    /// and liquidates (no loan needed: OwnCapital with amount 0).
    function test_twoTransactions_leverThenDonateAndLiquidate() public {
        usd.mint(attackerEoa, DEPOSIT);
        vm.startPrank(attackerEoa);
        require(usd.transfer(address(attacker), DEPOSIT), "fund");
        attacker.prepare(eMarket, DEPOSIT, MINT);
        vm.stopPrank();
        assertEq(eMarket.debtOf(address(attacker)), MINT, "tx1 levered up");
        assertFalse(eMarket.isLiquidatable(address(attacker)), "tx1 healthy");

        vm.roll(block.number + 4);
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.OwnCapital, 0, address(attacker));
        vm.prank(attackerEoa);
        attacker.execute(f, _params(0, 0));
        _assertDrained(usd.balanceOf(attackerEoa) - DEPOSIT, address(attacker));
    }

    function test_twoTransactions_pauseBetweenStopsTheSecond() public {
        usd.mint(attackerEoa, DEPOSIT);
        vm.startPrank(attackerEoa);
        require(usd.transfer(address(attacker), DEPOSIT), "fund");
        attacker.prepare(eMarket, DEPOSIT, MINT);
        vm.stopPrank();

        vm.prank(guardian);
        eMarket.pause();
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.OwnCapital, 0, address(attacker));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(attackerEoa);
        attacker.execute(f, _params(0, 0));
        assertEq(eMarket.cash(), VICTIM_USD + DEPOSIT, "cash intact");
    }

    function test_oneShotDeployer_inConstructor_withFlashSwap() public {
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.UniswapV2FlashSwap, DEPOSIT, address(0));
        IERC20[] memory sweep = new IERC20[](1);
        sweep[0] = IERC20(address(usd));
        vm.prank(attackerEoa, attackerEoa);
        OneShotDeployer d = new OneShotDeployer(
            type(DonationLiquidationAttacker).creationCode,
            abi.encodeCall(DonationLiquidationAttacker.execute, (f, _params(DEPOSIT, MINT))),
            sweep
        );
        _assertDrained(usd.balanceOf(attackerEoa), d.worker());
    }

    function test_paused_attackReverts() public {
        vm.prank(guardian);
        eMarket.pause();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            FlashFunded.Funding memory f = usdFunding(FlashFunded.Source(s), DEPOSIT, address(attacker));
            vm.expectRevert(Pausable.EnforcedPause.selector);
            vm.prank(attackerEoa);
            attacker.execute(f, _params(DEPOSIT, MINT));
        }
        assertEq(eMarket.cash(), VICTIM_USD, "cash intact");
    }

    /// @dev Benign: a whale levers up within the limit, borrows cash, repays, deleverages and
    /// leaves; then alice withdraws everything. Everyone whole, no bad debt.
    function test_benign_leverageAndLargeWithdrawals() public {
        usd.mint(bob, 2_000_000 * USD);
        vm.startPrank(bob);
        usd.approve(address(eMarket), type(uint256).max);
        eMarket.deposit(2_000_000 * USD);
        eMarket.mint(10_000_000 * USD);
        eMarket.borrow(500_000 * USD);
        assertFalse(eMarket.isLiquidatable(bob), "healthy");
        vm.roll(block.number + 10);
        eMarket.repay(500_000 * USD);
        eMarket.burn(10_000_000 * USD);
        eMarket.withdraw(2_000_000 * USD);
        vm.stopPrank();
        vm.prank(alice);
        eMarket.withdraw(VICTIM_USD);

        assertEq(usd.balanceOf(bob), 2_000_000 * USD, "bob whole");
        assertEq(usd.balanceOf(alice), VICTIM_USD, "alice whole");
        assertEq(eMarket.debtOf(bob), 0, "no debt left");
        assertEq(eMarket.cash(), 0, "every claim paid");
    }
}
