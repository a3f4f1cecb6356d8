// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {GuardianPausable} from "../common/GuardianPausable.sol";

/// @title SimpleCollateralLender
/// @notice Shared book-keeping of the scenario lenders: one collateral token, one debt token, a
/// loan-to-value limit, no interest. Subclasses only say what collateral is worth
/// (`_collateralValue`), which is where each of them is deliberately vulnerable.
/// Every user action stops while paused; `supply` (adding lending liquidity) does not.
abstract contract SimpleCollateralLender is GuardianPausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Token posted as collateral.
    IERC20 public immutable collateralToken;
    /// @notice Token lent out.
    IERC20 public immutable debtToken;
    /// @notice Borrow limit as a share of collateral value, in basis points.
    uint256 public immutable ltvBps;

    /// @notice Collateral posted by each user (collateral-token base units).
    mapping(address user => uint256) public collateralOf;
    /// @notice Debt of each user (debt-token base units).
    mapping(address user => uint256) public debtOf;

    event Supply(address indexed supplier, uint256 amount);
    event DepositCollateral(address indexed user, uint256 amount);
    event WithdrawCollateral(address indexed user, uint256 amount);
    event Borrow(address indexed user, uint256 amount);
    event Repay(address indexed payer, address indexed user, uint256 amount);

    error ZeroAmount();
    error InvalidLtv(uint256 ltvBps);
    error InsufficientCollateral(uint256 requested, uint256 available);
    error InsufficientLiquidity(uint256 requested, uint256 available);
    error PositionUnhealthy(address user, uint256 debt, uint256 borrowLimit);

    constructor(IERC20 collateralToken_, IERC20 debtToken_, uint256 ltvBps_, address admin, address pauser)
        GuardianPausable(admin, pauser)
    {
        if (ltvBps_ == 0 || ltvBps_ >= 10_000) revert InvalidLtv(ltvBps_);
        collateralToken = collateralToken_;
        debtToken = debtToken_;
        ltvBps = ltvBps_;
    }

    // ---------------------------------------------------------------- liquidity providers

    /// @notice Adds lending liquidity (pulled from the caller). Allowed while paused.
    function supply(uint256 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        debtToken.safeTransferFrom(msg.sender, address(this), amount);
        emit Supply(msg.sender, amount);
    }

    // ---------------------------------------------------------------- borrowers

    /// @notice Posts `amount` of collateral (pulled from the caller).
    function depositCollateral(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        collateralOf[msg.sender] += amount;
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
        emit DepositCollateral(msg.sender, amount);
    }

    /// @notice Takes back `amount` of collateral; the position must stay within the LTV limit.
    function withdrawCollateral(uint256 amount) external whenNotPaused nonReentrant {
        _releaseCollateral(msg.sender, amount);
        collateralToken.safeTransfer(msg.sender, amount);
        emit WithdrawCollateral(msg.sender, amount);
    }

    /// @notice Borrows `amount` of the debt token against the caller's collateral.
    function borrow(uint256 amount) external whenNotPaused nonReentrant {
        if (amount == 0) revert ZeroAmount();
        uint256 available = liquidity();
        if (amount > available) revert InsufficientLiquidity(amount, available);
        debtOf[msg.sender] += amount;
        _requireHealthy(msg.sender);
        debtToken.safeTransfer(msg.sender, amount);
        emit Borrow(msg.sender, amount);
    }

    /// @notice Repays up to `amount` of the caller's debt (capped at the debt; pulled from the caller).
    function repay(uint256 amount) external whenNotPaused nonReentrant {
        uint256 paid = _reduceDebt(msg.sender, amount);
        debtToken.safeTransferFrom(msg.sender, address(this), paid);
    }

    // ---------------------------------------------------------------- views

    /// @notice Value of `user`'s collateral in debt-token base units.
    function collateralValue(address user) public view returns (uint256) {
        uint256 amount = collateralOf[user];
        return amount == 0 ? 0 : _collateralValue(amount);
    }

    /// @notice Most `user` may owe: collateral value times `ltvBps`.
    function borrowLimit(address user) public view returns (uint256) {
        return (collateralValue(user) * ltvBps) / 10_000;
    }

    /// @notice How much more `user` may borrow under the LTV limit (not capped by `liquidity()`).
    function maxBorrow(address user) external view returns (uint256) {
        uint256 limit = borrowLimit(user);
        uint256 debt = debtOf[user];
        return limit > debt ? limit - debt : 0;
    }

    /// @notice Debt tokens held and available to lend.
    function liquidity() public view returns (uint256) {
        return debtToken.balanceOf(address(this));
    }

    // ---------------------------------------------------------------- internals

    /// @dev Debt-token value of `amount` of collateral. THE place each lender is vulnerable.
    function _collateralValue(uint256 amount) internal view virtual returns (uint256);

    /// @dev Removes `amount` from `user`'s collateral record and checks the position.
    function _releaseCollateral(address user, uint256 amount) internal {
        if (amount == 0) revert ZeroAmount();
        uint256 available = collateralOf[user];
        if (amount > available) revert InsufficientCollateral(amount, available);
        collateralOf[user] = available - amount;
        _requireHealthy(user);
    }

    /// @dev Lowers `user`'s debt by up to `amount`; returns what must be paid.
    function _reduceDebt(address user, uint256 amount) internal returns (uint256 paid) {
        uint256 debt = debtOf[user];
        paid = Math.min(amount, debt);
        if (paid == 0) revert ZeroAmount();
        debtOf[user] = debt - paid;
        emit Repay(msg.sender, user, paid);
    }

    function _requireHealthy(address user) internal view {
        uint256 debt = debtOf[user];
        if (debt == 0) return;
        uint256 limit = borrowLimit(user);
        if (debt > limit) revert PositionUnhealthy(user, debt, limit);
    }
}
