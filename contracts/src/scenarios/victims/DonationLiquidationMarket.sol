// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 9 (Euler Finance, March 2023): a single-asset lending market with Euler's
//  self-collateralised leverage (`mint` creates matching collateral and debt) and a
//  `donate` that hands collateral to the protocol's reserves WITHOUT a health check. No
//  oracle is involved. An account levers up to the limit, donates enough collateral to put its
//  own position under water, and a fresh second contract liquidates it: the fixed liquidation
//  bonus hands the liquidator collateral worth 1.1x the debt it takes over, while the violator
//  is left with bad debt. The liquidator deleverages (`burn`) and withdraws its equity — other
//  depositors' cash. A safe market checks health after a donation (Euler's fix) and caps the
//  bonus so a liquidation can never create bad debt.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {GuardianPausable} from "../common/GuardianPausable.sol";

/// @title DonationLiquidationMarket
/// @notice DELIBERATELY VULNERABLE single-asset lending market (see header). Collateral and debt
/// are book entries in the same token; an account is healthy while
/// debt <= collateral * collateralFactorBps / 10,000. All user actions stop while paused.
contract DonationLiquidationMarket is GuardianPausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice The market's only token (deposited, borrowed, repaid).
    IERC20 public immutable asset;
    /// @notice Debt allowed per unit of collateral, in bps (e.g. 9,500: up to 20x leverage via mint).
    uint256 public immutable collateralFactorBps;
    /// @notice Collateral a liquidator receives on top of the debt it takes over, in bps.
    uint256 public immutable liquidationBonusBps;

    /// @notice Collateral of each account (asset base units).
    mapping(address user => uint256) public collateralOf;
    /// @notice Debt of each account (asset base units).
    mapping(address user => uint256) public debtOf;
    /// @notice Collateral donated to the protocol.
    uint256 public reserves;

    event Deposit(address indexed user, uint256 amount);
    event Withdraw(address indexed user, uint256 amount);
    event Borrow(address indexed user, uint256 amount);
    event Repay(address indexed user, uint256 amount);
    event Mint(address indexed user, uint256 amount);
    event Burn(address indexed user, uint256 amount);
    event Donate(address indexed user, uint256 amount);
    event Liquidate(address indexed liquidator, address indexed violator, uint256 debtTaken, uint256 collateralTaken);

    error ZeroAmount();
    error InvalidParams();
    error InsufficientCollateral(uint256 requested, uint256 available);
    error InsufficientCash(uint256 requested, uint256 available);
    error PositionUnhealthy(address user, uint256 debt, uint256 limit);
    error NotLiquidatable(address user);
    error SelfLiquidation();

    /// @param asset_ The market's token.
    /// @param collateralFactorBps_ Debt allowed per collateral, bps in (0, 10,000).
    /// @param liquidationBonusBps_ Liquidation bonus in bps, at most 5,000.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(
        IERC20 asset_,
        uint256 collateralFactorBps_,
        uint256 liquidationBonusBps_,
        address admin,
        address pauser
    ) GuardianPausable(admin, pauser) {
        if (collateralFactorBps_ == 0 || collateralFactorBps_ >= 10_000 || liquidationBonusBps_ > 5_000) {
            revert InvalidParams();
        }
        asset = asset_;
        collateralFactorBps = collateralFactorBps_;
        liquidationBonusBps = liquidationBonusBps_;
    }

    // ---------------------------------------------------------------- cash in / out

    /// @notice Deposits `amount` (pulled from the caller) as collateral.
    function deposit(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        collateralOf[msg.sender] += amount;
        asset.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposit(msg.sender, amount);
    }

    /// @notice Withdraws `amount` of collateral; the account must stay healthy.
    function withdraw(uint256 amount) external whenNotPaused nonReentrant {
        _takeCollateral(msg.sender, amount);
        _requireHealthy(msg.sender);
        _pay(msg.sender, amount);
        emit Withdraw(msg.sender, amount);
    }

    /// @notice Borrows `amount` of cash; the account must stay healthy.
    function borrow(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        debtOf[msg.sender] += amount;
        _requireHealthy(msg.sender);
        _pay(msg.sender, amount);
        emit Borrow(msg.sender, amount);
    }

    /// @notice Repays up to `amount` of the caller's debt (pulled from the caller).
    function repay(uint256 amount) external whenNotPaused nonReentrant {
        uint256 paid = Math.min(amount, debtOf[msg.sender]);
        if (paid == 0) revert ZeroAmount();
        debtOf[msg.sender] -= paid;
        asset.safeTransferFrom(msg.sender, address(this), paid);
        emit Repay(msg.sender, paid);
    }

    // ---------------------------------------------------------------- book-entry operations

    /// @notice Leverage: adds `amount` to both the caller's collateral and debt (no tokens move);
    /// the account must stay healthy.
    function mint(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        collateralOf[msg.sender] += amount;
        debtOf[msg.sender] += amount;
        _requireHealthy(msg.sender);
        emit Mint(msg.sender, amount);
    }

    /// @notice Deleverage: removes `amount` from both the caller's collateral and debt.
    function burn(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0 || amount > debtOf[msg.sender]) revert InvalidParams();
        _takeCollateral(msg.sender, amount);
        debtOf[msg.sender] -= amount;
        emit Burn(msg.sender, amount);
    }

    /// @notice Gives `amount` of the caller's collateral to the protocol's reserves.
    function donate(uint256 amount) external whenNotPaused nonReentrant {
        _takeCollateral(msg.sender, amount);
        reserves += amount;
        // VULNERABLE: no health check: a donation can push the donor's own position under water.
        emit Donate(msg.sender, amount);
    }

    /// @notice Takes over up to `repayAmount` of an unhealthy account's debt and receives its
    /// collateral worth that debt plus the bonus (all of it if it is worth less). The caller
    /// must be healthy afterwards.
    /// @return debtTaken Debt moved to the caller.
    /// @return collateralTaken Collateral moved to the caller.
    function liquidate(address violator, uint256 repayAmount)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 debtTaken, uint256 collateralTaken)
    {
        if (violator == msg.sender) revert SelfLiquidation();
        if (!isLiquidatable(violator)) revert NotLiquidatable(violator);
        uint256 collateral = collateralOf[violator];
        debtTaken = Math.min(repayAmount, debtOf[violator]);
        if (debtTaken == 0) revert ZeroAmount();
        collateralTaken = (debtTaken * (10_000 + liquidationBonusBps)) / 10_000;
        if (collateralTaken > collateral) {
            // VULNERABLE: the fixed bonus is still paid when the collateral cannot cover it; the
            // debt the collateral does not cover stays behind as bad debt.
            collateralTaken = collateral;
            debtTaken = (collateral * 10_000) / (10_000 + liquidationBonusBps);
        }
        collateralOf[violator] = collateral - collateralTaken;
        debtOf[violator] -= debtTaken;
        collateralOf[msg.sender] += collateralTaken;
        debtOf[msg.sender] += debtTaken;
        _requireHealthy(msg.sender);
        emit Liquidate(msg.sender, violator, debtTaken, collateralTaken);
    }

    // ---------------------------------------------------------------- views

    /// @notice Tokens held (deposits + repayments - withdrawals - borrows).
    function cash() public view returns (uint256) {
        return asset.balanceOf(address(this));
    }

    /// @notice Most `user` may owe.
    function borrowLimit(address user) public view returns (uint256) {
        return (collateralOf[user] * collateralFactorBps) / 10_000;
    }

    /// @notice Whether `user`'s debt exceeds its limit.
    function isLiquidatable(address user) public view returns (bool) {
        return debtOf[user] > borrowLimit(user);
    }

    // ---------------------------------------------------------------- internals

    function _takeCollateral(address user, uint256 amount) internal {
        if (amount == 0) revert ZeroAmount();
        uint256 available = collateralOf[user];
        if (amount > available) revert InsufficientCollateral(amount, available);
        collateralOf[user] = available - amount;
    }

    function _pay(address to, uint256 amount) internal {
        uint256 available = cash();
        if (amount > available) revert InsufficientCash(amount, available);
        asset.safeTransfer(to, amount);
    }

    function _requireHealthy(address user) internal view {
        uint256 debt = debtOf[user];
        uint256 limit = borrowLimit(user);
        if (debt > limit) revert PositionUnhealthy(user, debt, limit);
    }
}
