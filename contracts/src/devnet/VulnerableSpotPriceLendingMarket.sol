// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / DRILL USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  This lending market values collateral at the SPOT price of a single Uniswap V2 pair
//  (`getReserves`). Anyone with enough capital for one transaction (a flash loan or a flash
//  swap) can buy the collateral token in that pair, inflate its spot price, deposit a little
//  collateral at the inflated value and borrow all of the market's liquidity (the bZx / DEUS /
//  Harvest class of exploit). It exists so that Vigil's guardian can be drilled against the
//  real thing: the guardian holds PAUSER_ROLE and pauses the market ahead of the attack.
//
//  The vulnerable lines are marked "VULNERABLE" below. A safe market would use a manipulation-
//  resistant price (TWAP, Chainlink, ...) and not the pair's current reserves.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "./interfaces/IUniswapV2Pair.sol";

/// @title VulnerableSpotPriceLendingMarket
/// @notice DELIBERATELY VULNERABLE single-collateral, single-debt-token lending market that prices
/// collateral from a Uniswap V2 pair's spot reserves, so a flash-loan price pump drains it.
/// Devnet drill target for Vigil: accounts holding PAUSER_ROLE (the Vigil Guardian contract) can
/// pause every user action. No interest, no liquidations: only what the drill needs.
contract VulnerableSpotPriceLendingMarket is AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Role allowed to pause and unpause the market (granted to the Vigil Guardian).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Token users deposit as collateral.
    IERC20 public immutable collateralToken;
    /// @notice Token users borrow (the market's lending liquidity).
    IERC20 public immutable debtToken;
    /// @notice Uniswap V2 pair (collateralToken/debtToken) whose SPOT reserves price the collateral.
    IUniswapV2Pair public immutable pricePair;
    /// @notice Loan-to-value limit in basis points (7,500 = users may borrow 75% of collateral value).
    uint256 public immutable ltvBps;

    bool private immutable _collateralIsToken0;
    uint256 private immutable _collateralUnit; // 10 ** collateral decimals
    uint256 private immutable _debtUnit; // 10 ** debt decimals

    /// @notice Collateral deposited by each user, in collateral base units.
    mapping(address user => uint256) public collateralOf;
    /// @notice Outstanding debt of each user, in debt-token base units.
    mapping(address user => uint256) public debtOf;

    event Supply(address indexed supplier, uint256 amount);
    event Deposit(address indexed user, uint256 amount);
    event Withdraw(address indexed user, uint256 amount);
    event Borrow(address indexed user, uint256 amount);
    event Repay(address indexed user, uint256 amount);

    error ZeroAmount();
    error ZeroAddress();
    error InvalidLtv(uint256 ltvBps);
    error PairMismatch(address pair);
    error InsufficientCollateral(uint256 requested, uint256 available);
    error InsufficientLiquidity(uint256 requested, uint256 available);
    error PositionUnhealthy(address user, uint256 debt, uint256 borrowLimit);

    /// @param collateralToken_ Collateral token.
    /// @param debtToken_ Debt (borrowable) token.
    /// @param pricePair_ Uniswap V2 pair of exactly these two tokens; its spot price values collateral.
    /// @param ltvBps_ Loan-to-value limit in basis points, in (0, 10,000).
    /// @param admin Receives DEFAULT_ADMIN_ROLE (can grant/revoke PAUSER_ROLE).
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(
        IERC20 collateralToken_,
        IERC20 debtToken_,
        IUniswapV2Pair pricePair_,
        uint256 ltvBps_,
        address admin,
        address pauser
    ) {
        if (admin == address(0)) revert ZeroAddress();
        if (ltvBps_ == 0 || ltvBps_ >= 10_000) revert InvalidLtv(ltvBps_);
        address t0 = pricePair_.token0();
        address t1 = pricePair_.token1();
        bool collateralIsToken0 = t0 == address(collateralToken_) && t1 == address(debtToken_);
        if (!collateralIsToken0 && !(t1 == address(collateralToken_) && t0 == address(debtToken_))) {
            revert PairMismatch(address(pricePair_));
        }

        collateralToken = collateralToken_;
        debtToken = debtToken_;
        pricePair = pricePair_;
        ltvBps = ltvBps_;
        _collateralIsToken0 = collateralIsToken0;
        _collateralUnit = 10 ** IERC20Metadata(address(collateralToken_)).decimals();
        _debtUnit = 10 ** IERC20Metadata(address(debtToken_)).decimals();

        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        if (pauser != address(0)) _grantRole(PAUSER_ROLE, pauser);
    }

    // ---------------------------------------------------------------- admin / guardian

    /// @notice Pauses deposit, withdraw, borrow and repay. PAUSER_ROLE only.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Unpauses the market. PAUSER_ROLE only.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice Adds lending liquidity (a plain `debtToken.transfer` to the market works too).
    /// Allowed while paused: it can only add funds.
    /// @param amount Debt-token amount pulled from the caller (needs approval).
    function supply(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        debtToken.safeTransferFrom(msg.sender, address(this), amount);
        emit Supply(msg.sender, amount);
    }

    // ---------------------------------------------------------------- user actions

    /// @notice Deposits `amount` of collateral (needs approval).
    function deposit(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        collateralOf[msg.sender] += amount;
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposit(msg.sender, amount);
    }

    /// @notice Withdraws `amount` of collateral; the position must stay within the LTV limit.
    function withdraw(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 available = collateralOf[msg.sender];
        if (amount > available) revert InsufficientCollateral(amount, available);
        collateralOf[msg.sender] = available - amount;
        _requireHealthy(msg.sender);
        collateralToken.safeTransfer(msg.sender, amount);
        emit Withdraw(msg.sender, amount);
    }

    /// @notice Borrows `amount` of the debt token, up to `ltvBps` of the collateral's value.
    function borrow(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 available = liquidity();
        if (amount > available) revert InsufficientLiquidity(amount, available);
        debtOf[msg.sender] += amount;
        // VULNERABLE: the limit comes from the pair's spot price, which the caller may have just
        // pumped within this very transaction.
        _requireHealthy(msg.sender);
        debtToken.safeTransfer(msg.sender, amount);
        emit Borrow(msg.sender, amount);
    }

    /// @notice Repays up to `amount` of the caller's debt (capped at the outstanding debt; needs approval).
    function repay(uint256 amount) external whenNotPaused nonReentrant {
        uint256 debt = debtOf[msg.sender];
        uint256 paid = Math.min(amount, debt);
        if (paid == 0) revert ZeroAmount();
        debtOf[msg.sender] = debt - paid;
        debtToken.safeTransferFrom(msg.sender, address(this), paid);
        emit Repay(msg.sender, paid);
    }

    // ---------------------------------------------------------------- views

    /// @notice Spot price of ONE whole collateral token in whole debt tokens, as an 18-decimal
    /// fixed-point number (1,000 USD per COLL => 1000e18), decimals of both tokens normalised.
    /// VULNERABLE: read straight from the pair's current reserves (manipulable in one transaction).
    function price() public view returns (uint256) {
        (uint256 reserveCollateral, uint256 reserveDebt) = _reserves();
        return Math.mulDiv(reserveDebt * _collateralUnit, 1e18, reserveCollateral * _debtUnit);
    }

    /// @notice Value of `user`'s collateral in debt-token base units at the spot price.
    function collateralValue(address user) public view returns (uint256) {
        return _value(collateralOf[user]);
    }

    /// @notice Most `user` may owe: collateral value times `ltvBps`, in debt-token base units.
    function borrowLimit(address user) public view returns (uint256) {
        return (collateralValue(user) * ltvBps) / 10_000;
    }

    /// @notice How much more `user` may borrow under the LTV limit (not capped by `liquidity()`).
    function maxBorrow(address user) external view returns (uint256) {
        uint256 limit = borrowLimit(user);
        uint256 debt = debtOf[user];
        return limit > debt ? limit - debt : 0;
    }

    /// @notice Debt tokens the market holds and can lend.
    function liquidity() public view returns (uint256) {
        return debtToken.balanceOf(address(this));
    }

    // ---------------------------------------------------------------- internals

    /// @dev (collateral reserve, debt reserve) of the price pair, in base units.
    function _reserves() internal view returns (uint256 reserveCollateral, uint256 reserveDebt) {
        // VULNERABLE: spot reserves, not a time-weighted or external price.
        (uint112 r0, uint112 r1,) = pricePair.getReserves();
        (reserveCollateral, reserveDebt) = _collateralIsToken0 ? (r0, r1) : (r1, r0);
    }

    /// @dev Collateral amount -> debt-token base units. The raw reserve ratio is already "debt
    /// base units per collateral base unit", so no decimal scaling is needed here.
    function _value(uint256 collateralAmount) internal view returns (uint256) {
        if (collateralAmount == 0) return 0;
        (uint256 reserveCollateral, uint256 reserveDebt) = _reserves();
        return Math.mulDiv(collateralAmount, reserveDebt, reserveCollateral);
    }

    function _requireHealthy(address user) internal view {
        uint256 debt = debtOf[user];
        if (debt == 0) return;
        uint256 limit = borrowLimit(user);
        if (debt > limit) revert PositionUnhealthy(user, debt, limit);
    }
}
