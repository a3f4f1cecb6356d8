// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {AaveStyleAToken} from "./AaveStyleAToken.sol";
import {IAaveStyleFlashLoanReceiver} from "./IFlashLoanCallbacks.sol";

/// @title AaveStyleLendingPool
/// @notice Flash-loan source with Aave V2's call shape for the scenario library:
/// `flashLoan(receiver, assets[], amounts[], modes[], onBehalfOf, params, referralCode)` sends the
/// assets from each reserve's aToken, calls `executeOperation(assets, amounts, premiums, initiator,
/// params)`, then pulls `amount + premium` from the receiver into the aToken with `transferFrom`.
/// Suppliers fund reserves with `deposit` (receiving aTokens) and leave with `withdraw`. Only
/// mode 0 (repay in the same transaction) is supported: no variable/stable debt is opened.
contract AaveStyleLendingPool is Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice Flash-loan premium in basis points (Aave V2's 9 bps).
    uint256 public constant FLASHLOAN_PREMIUM_TOTAL = 9;

    /// @notice The aToken (fund holder and deposit receipt) of each initialised reserve.
    mapping(address asset => AaveStyleAToken) public aTokenOf;

    event ReserveInitialized(address indexed asset, address indexed aToken);
    event Deposit(address indexed reserve, address user, address indexed onBehalfOf, uint256 amount, uint16 indexed referral);
    event Withdraw(address indexed reserve, address indexed user, address indexed to, uint256 amount);
    event FlashLoan(
        address indexed target,
        address indexed initiator,
        address indexed asset,
        uint256 amount,
        uint256 premium,
        uint16 referralCode
    );

    error ReserveAlreadyInitialized(address asset);
    error ReserveNotInitialized(address asset);
    error InconsistentFlashLoanParams();
    error UnsupportedMode(uint256 mode);
    error InvalidFlashLoanExecutorReturn();
    error ZeroAmount();

    /// @param initialOwner Account allowed to initialise reserves.
    constructor(address initialOwner) Ownable(initialOwner) {}

    /// @notice Creates the reserve of `asset` and its aToken ("a" + symbol). Owner only.
    /// @return aToken The new aToken, which will hold the reserve's funds.
    function initReserve(address asset) external onlyOwner returns (address aToken) {
        if (address(aTokenOf[asset]) != address(0)) revert ReserveAlreadyInitialized(asset);
        string memory symbol = IERC20Metadata(asset).symbol();
        AaveStyleAToken t = new AaveStyleAToken(
            address(this), IERC20(asset), string.concat("Aave-style ", symbol), string.concat("a", symbol)
        );
        aTokenOf[asset] = t;
        emit ReserveInitialized(asset, address(t));
        return address(t);
    }

    /// @notice Supplies `amount` of `asset` (needs approval of this pool); aTokens go to `onBehalfOf`.
    function deposit(address asset, uint256 amount, address onBehalfOf, uint16 referralCode) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        AaveStyleAToken aToken = _reserve(asset);
        IERC20(asset).safeTransferFrom(msg.sender, address(aToken), amount);
        aToken.mint(onBehalfOf, amount);
        emit Deposit(asset, msg.sender, onBehalfOf, amount, referralCode);
    }

    /// @notice Burns the caller's aTokens and sends `amount` of `asset` to `to`
    /// (`type(uint256).max` = the caller's whole balance).
    /// @return The amount withdrawn.
    function withdraw(address asset, uint256 amount, address to) external nonReentrant returns (uint256) {
        AaveStyleAToken aToken = _reserve(asset);
        if (amount == type(uint256).max) amount = aToken.balanceOf(msg.sender);
        if (amount == 0) revert ZeroAmount();
        aToken.burn(msg.sender, to, amount);
        emit Withdraw(asset, msg.sender, to, amount);
        return amount;
    }

    /// @notice Lends `amounts[i]` of `assets[i]` to `receiverAddress` for the duration of its
    /// `executeOperation` callback, then pulls each `amount + premium` back into the aToken.
    /// @param receiverAddress Receiver; must implement IAaveStyleFlashLoanReceiver, return true
    /// and approve this pool for the repayment.
    /// @param assets Assets to borrow (initialised reserves).
    /// @param amounts Amounts to borrow.
    /// @param modes Debt modes; only 0 (no debt, repay now) is supported.
    /// @param params Passed through to the callback.
    /// @param referralCode Emitted with the loan.
    /// @dev The fifth parameter (Aave's `onBehalfOf`) only matters for debt modes, which are not
    /// supported; it is kept for call-shape fidelity.
    function flashLoan(
        address receiverAddress,
        address[] calldata assets,
        uint256[] calldata amounts,
        uint256[] calldata modes,
        address,
        bytes calldata params,
        uint16 referralCode
    ) external nonReentrant {
        uint256 n = assets.length;
        if (n == 0 || amounts.length != n || modes.length != n) revert InconsistentFlashLoanParams();

        uint256[] memory premiums = _lend(receiverAddress, assets, amounts, modes);
        if (!IAaveStyleFlashLoanReceiver(receiverAddress).executeOperation(assets, amounts, premiums, msg.sender, params))
        {
            revert InvalidFlashLoanExecutorReturn();
        }
        _collect(receiverAddress, assets, amounts, premiums, referralCode);
    }

    /// @dev Sends each amount from its aToken to the receiver; returns the premiums owed.
    function _lend(
        address receiver,
        address[] calldata assets,
        uint256[] calldata amounts,
        uint256[] calldata modes
    ) internal returns (uint256[] memory premiums) {
        premiums = new uint256[](assets.length);
        for (uint256 i = 0; i < assets.length; ++i) {
            if (modes[i] != 0) revert UnsupportedMode(modes[i]);
            premiums[i] = (amounts[i] * FLASHLOAN_PREMIUM_TOTAL) / 10_000;
            _reserve(assets[i]).transferUnderlyingTo(receiver, amounts[i]);
        }
    }

    /// @dev Pulls each `amount + premium` from the receiver into its aToken.
    function _collect(
        address receiver,
        address[] calldata assets,
        uint256[] calldata amounts,
        uint256[] memory premiums,
        uint16 referralCode
    ) internal {
        for (uint256 i = 0; i < assets.length; ++i) {
            // Under-repayment (allowance or balance short) reverts here.
            IERC20(assets[i]).safeTransferFrom(receiver, address(aTokenOf[assets[i]]), amounts[i] + premiums[i]);
            emit FlashLoan(receiver, msg.sender, assets[i], amounts[i], premiums[i], referralCode);
        }
    }

    function _reserve(address asset) internal view returns (AaveStyleAToken aToken) {
        aToken = aTokenOf[asset];
        if (address(aToken) == address(0)) revert ReserveNotInitialized(asset);
    }
}
