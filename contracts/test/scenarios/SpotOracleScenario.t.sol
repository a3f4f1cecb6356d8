// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ScenarioFixture} from "./ScenarioFixture.sol";
import {FlashFunded} from "../../src/scenarios/common/FlashFunded.sol";
import {SpotOracleAttacker} from "../../src/scenarios/attacks/SpotOracleAttacker.sol";

/// @notice Pattern 1 against the devnet VulnerableSpotPriceLendingMarket (1M USD, LTV 75%, priced
/// by USD/COLL 1M/1,000), from every funding source. Attack: a pump contract buys COLL with 4M USD
/// (spot x~25), a few dozen COLL borrow everything, the rest is sold back: 4M USD of capital.
contract SpotOracleScenarioTest is ScenarioFixture {
    SpotOracleAttacker internal attacker;

    function setUp() public override {
        super.setUp();
        vm.prank(attackerEoa);
        attacker = new SpotOracleAttacker();
    }

    function _params() internal view returns (SpotOracleAttacker.Params memory) {
        return SpotOracleAttacker.Params({market: market, pumpAmount: ATTACK_AMOUNT});
    }

    function test_everyFundingSource_drainsMarket() public {
        for (uint8 s = 0; s < sourceCount(); ++s) {
            uint256 snap = vm.snapshotState();
            FlashFunded.Source src = FlashFunded.Source(s);
            FlashFunded.Funding memory f = usdFunding(src, ATTACK_AMOUNT, address(attacker));
            vm.prank(attackerEoa);
            attacker.execute(f, _params());
            assertEq(market.liquidity(), 0, "market drained");
            assertGt(netProfit(src, ATTACK_AMOUNT), (MARKET_USD * 90) / 100, "profit > 90% of the liquidity");
            assertLe(market.collateralOf(address(attacker)), 60 * COLL, "tiny collateral left behind");
            assertEq(usd.balanceOf(address(attacker)), 0, "attack contract empty");
            vm.revertToState(snap);
        }
    }

    function test_paused_attackReverts() public {
        vm.prank(guardian);
        market.pause();
        for (uint8 s = 0; s < sourceCount(); ++s) {
            FlashFunded.Funding memory f = usdFunding(FlashFunded.Source(s), ATTACK_AMOUNT, address(attacker));
            vm.expectRevert(Pausable.EnforcedPause.selector);
            vm.prank(attackerEoa);
            attacker.execute(f, _params());
        }
        assertEq(market.liquidity(), MARKET_USD, "market intact");
    }

    function test_onlyOwner() public {
        FlashFunded.Funding memory f = usdFunding(FlashFunded.Source.ERC3156, ATTACK_AMOUNT, address(attacker));
        vm.expectRevert(FlashFunded.NotOwner.selector);
        attacker.execute(f, _params());
    }
}
