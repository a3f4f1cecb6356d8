// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  DELIBERATELY VULNERABLE CONTRACT. DEVNET / SCENARIO USE ONLY. NEVER DEPLOY WITH REAL FUNDS.
//
//  Pattern 7 (Inverse Finance, UwU Lend): a two-coin "stable" pool with Curve's interface
//  (`exchange(int128,int128,uint256,uint256)`, `add_liquidity(uint256[2],uint256)`,
//  `get_virtual_price()`, `price_oracle()`), kept simple: a constant-product curve with a 4 bps
//  fee. Its virtual price is the SUM of its balances per LP token, valuing both coins at 1 —
//  exact only while the pool is balanced. A large one-sided swap leaves the pool full of the
//  coin swapped in and short of the other by less (the curve), so the sum — and the virtual
//  price any lender reads — jumps within the transaction. A real StableSwap prices LP with its
//  invariant D, which swaps do not move; the fair formula for this curve would be
//  2 * sqrt(b0 * b1) / supply.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {GuardianPausable} from "../common/GuardianPausable.sol";

/// @title CurveLikePool
/// @notice DELIBERATELY VULNERABLE two-coin pool with a manipulable `get_virtual_price()` (see
/// header). This contract is its own LP token (18 decimals). Both coins must have the same
/// decimals. Swaps and liquidity changes stop while paused.
// forge-lint: disable-start(mixed-case-function, mixed-case-variable)
contract CurveLikePool is ERC20, GuardianPausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Swap fee in basis points of the input.
    uint256 public constant FEE_BPS = 4;

    IERC20 private immutable _coin0;
    IERC20 private immutable _coin1;
    /// @dev 10 ** (18 - coin decimals): normalises balances to LP-token precision.
    uint256 private immutable _rate;
    uint256[2] private _balances;

    event TokenExchange(address indexed buyer, int128 sold_id, uint256 tokens_sold, int128 bought_id, uint256 tokens_bought);
    event AddLiquidity(address indexed provider, uint256[2] token_amounts, uint256 minted, uint256 token_supply);
    event RemoveLiquidity(address indexed provider, uint256[2] token_amounts, uint256 token_supply);

    error DecimalsMismatch();
    error InvalidCoinIndex();
    error ZeroAmount();
    error Slippage(uint256 got, uint256 min);

    /// @param coin0_ First coin (e.g. the USD stablecoin).
    /// @param coin1_ Second coin (e.g. another stablecoin), same decimals.
    /// @param name_ LP token name.
    /// @param symbol_ LP token symbol.
    /// @param admin Receives DEFAULT_ADMIN_ROLE.
    /// @param pauser Receives PAUSER_ROLE (the Vigil Guardian); address(0) to grant it later.
    constructor(
        IERC20 coin0_,
        IERC20 coin1_,
        string memory name_,
        string memory symbol_,
        address admin,
        address pauser
    ) ERC20(name_, symbol_) GuardianPausable(admin, pauser) {
        uint8 d = IERC20Metadata(address(coin0_)).decimals();
        if (d != IERC20Metadata(address(coin1_)).decimals() || d > 18) revert DecimalsMismatch();
        _coin0 = coin0_;
        _coin1 = coin1_;
        _rate = 10 ** (18 - d);
    }

    /// @notice Coin `i` (0 or 1).
    function coins(uint256 i) public view returns (address) {
        if (i > 1) revert InvalidCoinIndex();
        return i == 0 ? address(_coin0) : address(_coin1);
    }

    /// @notice Pool balance of coin `i`.
    function balances(uint256 i) external view returns (uint256) {
        if (i > 1) revert InvalidCoinIndex();
        return _balances[i];
    }

    /// @notice Deposits `amounts` (any proportion, pulled from the caller) for LP tokens.
    function add_liquidity(uint256[2] calldata amounts, uint256 min_mint_amount)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 minted)
    {
        uint256 added = amounts[0] + amounts[1];
        if (added == 0) revert ZeroAmount();
        uint256 supply = totalSupply();
        // Naive: both coins valued at 1, like the virtual price.
        minted = supply == 0 ? added * _rate : Math.mulDiv(added, supply, _balances[0] + _balances[1]);
        if (minted < min_mint_amount) revert Slippage(minted, min_mint_amount);
        for (uint256 i = 0; i < 2; ++i) {
            if (amounts[i] != 0) {
                _balances[i] += amounts[i];
                IERC20(coins(i)).safeTransferFrom(msg.sender, address(this), amounts[i]);
            }
        }
        _mint(msg.sender, minted);
        emit AddLiquidity(msg.sender, amounts, minted, supply + minted);
    }

    /// @notice Burns `amount` LP tokens for a proportional share of both coins.
    function remove_liquidity(uint256 amount, uint256[2] calldata min_amounts)
        external
        whenNotPaused
        nonReentrant
        returns (uint256[2] memory amounts)
    {
        if (amount == 0) revert ZeroAmount();
        uint256 supply = totalSupply();
        _burn(msg.sender, amount);
        for (uint256 i = 0; i < 2; ++i) {
            amounts[i] = Math.mulDiv(_balances[i], amount, supply);
            if (amounts[i] < min_amounts[i]) revert Slippage(amounts[i], min_amounts[i]);
            _balances[i] -= amounts[i];
            IERC20(coins(i)).safeTransfer(msg.sender, amounts[i]);
        }
        emit RemoveLiquidity(msg.sender, amounts, supply - amount);
    }

    /// @notice Output of swapping `dx` of coin `i` for coin `j` (fee included).
    function get_dy(int128 i, int128 j, uint256 dx) public view returns (uint256) {
        (uint256 a, uint256 b) = _indices(i, j);
        uint256 dxAfterFee = (dx * (10_000 - FEE_BPS)) / 10_000;
        return Math.mulDiv(dxAfterFee, _balances[b], _balances[a] + dxAfterFee);
    }

    /// @notice Swaps `dx` of coin `i` (pulled from the caller) for coin `j`, sent to the caller.
    function exchange(int128 i, int128 j, uint256 dx, uint256 min_dy)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 dy)
    {
        if (dx == 0) revert ZeroAmount();
        (uint256 a, uint256 b) = _indices(i, j);
        dy = get_dy(i, j, dx);
        if (dy < min_dy) revert Slippage(dy, min_dy);
        _balances[a] += dx;
        _balances[b] -= dy;
        IERC20(coins(a)).safeTransferFrom(msg.sender, address(this), dx);
        IERC20(coins(b)).safeTransfer(msg.sender, dy);
        emit TokenExchange(msg.sender, i, dx, j, dy);
    }

    /// @notice Value of one LP token (1e18) in coin units (1e18 = one whole coin).
    /// VULNERABLE: sum of balances / supply, valuing both coins at 1 even when a swap has just
    /// unbalanced the pool.
    function get_virtual_price() external view returns (uint256) {
        uint256 supply = totalSupply();
        if (supply == 0) return 1e18;
        return Math.mulDiv((_balances[0] + _balances[1]) * _rate, 1e18, supply);
    }

    /// @notice Spot price of coin 1 in coin 0 (1e18 = parity), from the current balances.
    function price_oracle() external view returns (uint256) {
        return Math.mulDiv(_balances[0], 1e18, _balances[1]);
    }

    function _indices(int128 i, int128 j) internal pure returns (uint256, uint256) {
        if (i == j || i < 0 || j < 0 || i > 1 || j > 1) revert InvalidCoinIndex();
        // forge-lint: disable-next-line(unsafe-typecast)
        return (uint256(uint128(i)), uint256(uint128(j)));
    }
}
// forge-lint: disable-end(mixed-case-function, mixed-case-variable)
