// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 5 (PancakeBunny): a staking vault whose stakers earn the fees paid into it, and on
//  `claim()` are additionally MINTED reward tokens worth their fee profit, valued at the SPOT
//  price of a Uniswap V2 pool. Two flaws compound, as in Bunny:
//    - profit is "my share of the vault's balance minus my principal": tokens sent straight to
//      the vault count as fees, and a staker who joined a moment ago shares them;
//    - the profit is valued at the pool's spot price, which buying the staking token in that
//      same pool has just pumped.
//  So one transaction can buy the staking token (pumping its price), stake most of it, send the
//  rest in as "fees", claim an oversized reward mint, unstake, sell back and dump the rewards
//  into the reward token's pool.
//  A safe minter values profits with a TWAP / oracle price and accrues fees over time
//  (reward-per-share accounting) instead of reading the raw balance.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {GuardianPausable} from "../common/GuardianPausable.sol";

/// @notice Reward token minted by the RewardMinter (DevToken has this shape; the minter owns it).
interface IMintableERC20 is IERC20 {
    function mint(address to, uint256 amount) external;
}

/// @title RewardMinter
/// @notice DELIBERATELY VULNERABLE staking vault + reward minter (see header). Shares represent a
/// pro-rata claim on the vault's staking-token balance; each staker's principal is tracked, and
/// the excess ("fee profit") is paid out by `claim()` together with newly minted reward tokens
/// worth `rewardPerQuoteUnit` per quote-token base unit of profit. Staking, unstaking and claiming
/// stop while paused; `distributeFees` does not (it only adds value).
contract RewardMinter is GuardianPausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Token staked and in which fees are paid.
    IERC20 public immutable stakingToken;
    /// @notice Token minted as reward.
    IMintableERC20 public immutable rewardToken;
    /// @notice Uniswap V2 pair of stakingToken/quoteToken pricing the profit.
    IUniswapV2Pair public immutable pricePair;
    /// @notice Unit of account of the profit valuation (e.g. the USD stablecoin).
    address public immutable quoteToken;
    /// @notice Reward base units minted per quote-token base unit of profit value.
    uint256 public immutable rewardPerQuoteUnit;

    /// @notice Total vault shares.
    uint256 public totalShares;
    /// @notice Shares of each staker.
    mapping(address user => uint256) public sharesOf;
    /// @notice Staking tokens each staker put in and has not taken out (their cost basis).
    mapping(address user => uint256) public principalOf;

    event Stake(address indexed user, uint256 amount, uint256 shares);
    event Unstake(address indexed user, uint256 amount, uint256 shares);
    event Claim(address indexed user, uint256 profit, uint256 reward);
    event FeesDistributed(address indexed from, uint256 amount);

    error ZeroAmount();
    error PairMismatch(address pair);
    error InsufficientShares(uint256 requested, uint256 available);
    error NothingToClaim();

    /// @param stakingToken_ Token staked (and in which fees arrive).
    /// @param rewardToken_ Reward token; this contract must be allowed to mint it.
    /// @param pricePair_ Uniswap V2 pair of stakingToken_/quoteToken_.
    /// @param quoteToken_ Token the profit is valued in.
    /// @param rewardPerQuoteUnit_ Reward base units per quote base unit of profit (e.g. 1e12 for
    /// one 18-decimal reward token per 6-decimal USD).
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(
        IERC20 stakingToken_,
        IMintableERC20 rewardToken_,
        IUniswapV2Pair pricePair_,
        address quoteToken_,
        uint256 rewardPerQuoteUnit_,
        address admin,
        address pauser
    ) GuardianPausable(admin, pauser) {
        if (V2Math.otherToken(pricePair_, address(stakingToken_)) != quoteToken_) revert PairMismatch(address(pricePair_));
        stakingToken = stakingToken_;
        rewardToken = rewardToken_;
        pricePair = pricePair_;
        quoteToken = quoteToken_;
        rewardPerQuoteUnit = rewardPerQuoteUnit_;
    }

    /// @notice Stakes `amount` (pulled from the caller) for vault shares at the current share price.
    function stake(uint256 amount) external whenNotPaused nonReentrant returns (uint256 shares) {
        if (amount == 0) revert ZeroAmount();
        uint256 balance = stakingToken.balanceOf(address(this));
        shares = totalShares == 0 ? amount : Math.mulDiv(amount, totalShares, balance);
        if (shares == 0) revert ZeroAmount();
        totalShares += shares;
        sharesOf[msg.sender] += shares;
        principalOf[msg.sender] += amount;
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
        emit Stake(msg.sender, amount, shares);
    }

    /// @notice Burns `shares` for their part of the balance; principal is reduced pro rata. Does
    /// not mint rewards (claim first).
    function unstake(uint256 shares) external whenNotPaused nonReentrant returns (uint256 amount) {
        uint256 held = sharesOf[msg.sender];
        if (shares == 0) revert ZeroAmount();
        if (shares > held) revert InsufficientShares(shares, held);
        amount = Math.mulDiv(shares, stakingToken.balanceOf(address(this)), totalShares);
        principalOf[msg.sender] -= Math.mulDiv(principalOf[msg.sender], shares, held);
        sharesOf[msg.sender] = held - shares;
        totalShares -= shares;
        stakingToken.safeTransfer(msg.sender, amount);
        emit Unstake(msg.sender, amount, shares);
    }

    /// @notice Pays out the caller's fee profit in staking tokens and mints the reward on top.
    /// @return profit Staking tokens paid out.
    /// @return reward Reward tokens minted to the caller.
    function claim() external whenNotPaused nonReentrant returns (uint256 profit, uint256 reward) {
        profit = pendingProfit(msg.sender);
        if (profit == 0) revert NothingToClaim();
        uint256 balance = stakingToken.balanceOf(address(this));
        uint256 burned = Math.min(sharesOf[msg.sender], Math.mulDiv(profit, totalShares, balance, Math.Rounding.Ceil));
        sharesOf[msg.sender] -= burned;
        totalShares -= burned;
        // VULNERABLE: the reward is the profit valued at the pool's spot price.
        reward = profitValue(profit) * rewardPerQuoteUnit;
        stakingToken.safeTransfer(msg.sender, profit);
        rewardToken.mint(msg.sender, reward);
        emit Claim(msg.sender, profit, reward);
    }

    /// @notice Fee feed: pulls `amount` of staking tokens from the caller into the vault, where
    /// they become profit for the current stakers. Allowed while paused.
    function distributeFees(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        stakingToken.safeTransferFrom(msg.sender, address(this), amount);
        emit FeesDistributed(msg.sender, amount);
    }

    /// @notice `user`'s share of the balance above their principal.
    /// VULNERABLE: the raw balance counts any direct transfer as fees, claimable at once.
    function pendingProfit(address user) public view returns (uint256) {
        uint256 shares = sharesOf[user];
        if (shares == 0) return 0;
        uint256 value = Math.mulDiv(shares, stakingToken.balanceOf(address(this)), totalShares);
        uint256 principal = principalOf[user];
        return value > principal ? value - principal : 0;
    }

    /// @notice Quote-token value of `amount` staking tokens.
    /// VULNERABLE: at the pair's current (spot) reserves.
    function profitValue(uint256 amount) public view returns (uint256) {
        (uint256 reserveStaking, uint256 reserveQuote) = V2Math.reservesFor(pricePair, address(stakingToken));
        return Math.mulDiv(amount, reserveQuote, reserveStaking);
    }
}
